"""Records the sources of the synthetic city send over the simulated years.

Behaviour follows the latent traits: late payments, defaults and court listings fall on people
(and companies) with low diligence (compliance); volunteering, on-time repayment and verified
income rise with it. The types are those of docs/record-types.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from socialcredit.simulate.population import City

SOURCES: list[tuple[str, str, str, list[str]]] = [
    (
        "court",
        "court",
        "Weihai Intermediate People's Court",
        ["court.judgment.*", "court.dishonest.*", "court.listing.revoked"],
    ),
    ("bank", "bank", "Bank of Weihai", ["finance.*"]),
    ("utility", "utility", "Weihai Water and Power", ["utility.*"]),
    ("platform", "platform", "Online marketplace", ["commerce.*"]),
    ("police", "public-security", "Weihai Public Security Bureau", ["traffic.*", "public_order.*"]),
    (
        "gov",
        "local-government",
        "Neighbourhood committees",
        [
            "civic.volunteer.service",
            "civic.heroic_act",
            "civic.blood_donation",
            "civic.honor.award",
            "civic.family.*",
        ],
    ),
    ("tax", "tax", "Weihai Taxation Bureau", ["tax.*"]),
    ("market", "market-regulator", "Weihai Market Supervision Administration", ["market.*"]),
    ("environment", "environment", "Weihai Ecology and Environment Bureau", ["environment.*"]),
    ("transport", "transport", "Railway and airport operators", ["rail.*", "aviation.*"]),
    ("employer", "human-resources", "Social insurance registry", ["employment.verified"]),
    ("education", "education", "Degree verification centre", ["education.degree.verified"]),
    (
        "civil-affairs",
        "civil-affairs",
        "Weihai Civil Affairs Bureau",
        ["identity.verified", "civic.honor.integrity_model"],
    ),
    ("credit-office", "credit-agency", "Weihai Credit Office", ["credit.repair.approved"]),
]
SOURCE_OF = {
    "court": "court",
    "finance": "bank",
    "utility": "utility",
    "commerce": "platform",
    "traffic": "police",
    "public_order": "police",
    "civic": "gov",
    "tax": "tax",
    "market": "market",
    "environment": "environment",
    "rail": "transport",
    "aviation": "transport",
    "employment": "employer",
    "education": "education",
    "identity": "civil-affairs",
    "credit": "credit-office",
}
TYPE_SOURCE = {"civic.honor.integrity_model": "civil-affairs"}
DISHONEST_GROUNDS = np.array(
    [
        "court.dishonest.refuses_to_perform",
        "court.dishonest.evades_enforcement",
        "court.dishonest.false_property_report",
        "court.dishonest.violates_consumption_order",
        "court.dishonest.obstructs_enforcement",
        "court.dishonest.breaches_settlement",
    ]
)
GROUND_SHARE = np.array([0.62, 0.12, 0.1, 0.08, 0.05, 0.03])
US_PER_DAY = 86_400_000_000


@dataclass
class _Log:
    start: int  # microseconds
    end: int
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(
        self,
        record_type: str,
        subjects: np.ndarray,
        times: np.ndarray,
        values: np.ndarray | None = None,
    ) -> None:
        keep = times < self.end
        subjects, times = subjects[keep], times[keep]
        values = np.full(len(subjects), np.nan) if values is None else values[keep]
        source = TYPE_SOURCE.get(record_type) or SOURCE_OF[record_type.split(".")[0]]
        kind = np.full(len(subjects), record_type, dtype=object)
        self.parts[source].append((subjects, kind, times, values.astype(float)))

    def tables(self) -> dict[str, pa.Table]:
        out = {}
        for source, _, _, _ in SOURCES:
            parts = self.parts.get(source, [])
            if not parts:
                continue
            subjects = np.concatenate([p[0] for p in parts])
            kinds = np.concatenate([p[1] for p in parts])
            times = np.concatenate([p[2] for p in parts])
            values = np.concatenate([p[3] for p in parts])
            order = np.lexsort((subjects, times))
            count = len(order)
            if count == 0:
                continue
            out[source] = pa.table(
                {
                    "record_id": np.char.add(
                        f"{source}-", np.char.zfill(np.arange(1, count + 1).astype(str), 8)
                    ),
                    "subject": subjects[order],
                    "type": kinds[order].astype(str),
                    "occurred_at": pa.array(times[order], pa.timestamp("us", tz="UTC")),
                    "value": pa.array(values[order], pa.float64(), from_pandas=True),
                }
            )
        return out


def generate_records(city: City) -> dict[str, pa.Table]:
    """Per source id, the records it sends (record_id, subject, type, occurred_at, value)."""
    config = city.config
    rng = np.random.default_rng(config.seed + 1)
    end = int(np.datetime64(config.until, "us").astype(np.int64))
    log = _Log(start=end - config.years * 365 * US_PER_DAY, end=end)
    _people_records(rng, city, log)
    _org_records(rng, city, log)
    return log.tables()


def _when(rng: np.random.Generator, log: _Log, n: int) -> np.ndarray:
    return rng.integers(log.start, log.end, n)


def _repeat(
    rng: np.random.Generator, log: _Log, who: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson-many events per subject over the period (rate = events per year)."""
    years = (log.end - log.start) / (365 * US_PER_DAY)
    rate = np.broadcast_to(np.asarray(rate, dtype=float), who.shape)
    counts = rng.poisson(np.clip(rate, 0, None) * years)
    subjects = np.repeat(who, counts)
    return subjects, _when(rng, log, len(subjects))


def _periodic(log: _Log, who: np.ndarray, every_days: int) -> tuple[np.ndarray, np.ndarray]:
    """One event per subject every `every_days`, at the end of each period."""
    moments = np.arange(log.start + every_days * US_PER_DAY, log.end + 1, every_days * US_PER_DAY)
    return np.repeat(who, len(moments)), np.tile(moments - 1, len(who))


def _people_records(rng: np.random.Generator, city: City, log: _Log) -> None:
    p = city.people
    ident = np.char.add("cn-rid:", p.identifier)
    z = p.diligence
    adult = p.age >= 18
    years_span = (log.end - log.start) / (365 * US_PER_DAY)

    # Identity and degrees: verified once.
    who = np.flatnonzero(adult)
    log.add("identity.verified", ident[who], _when(rng, log, len(who)))
    who = np.flatnonzero(p.degree > 0)
    log.add(
        "education.degree.verified",
        ident[who],
        _when(rng, log, len(who)),
        p.degree[who].astype(float),
    )

    # Bank: quarterly repayment statements for borrowers, late payments, defaults.
    borrower = np.flatnonzero(adult & (p.age < 75) & (rng.random(len(z)) < 0.55))
    subjects, times = _periodic(log, borrower, 91)
    late_quarter = rng.random(len(subjects)) < 0.08 * np.exp(-0.9 * z[subjects])
    log.add("finance.repayment.on_time", ident[subjects], times, np.where(late_quarter, 2.0, 3.0))
    subjects, times = _repeat(rng, log, borrower, 0.35 * np.exp(-1.1 * z[borrower]))
    days = 1 + rng.geometric(0.08, len(subjects)).astype(float)
    log.add("finance.payment.late", ident[subjects], times, np.minimum(days, 180))
    defaulted = borrower[
        rng.random(len(borrower)) < 0.012 * years_span * np.exp(-1.4 * z[borrower])
    ]
    default_at = _when(rng, log, len(defaulted))
    log.add(
        "finance.loan.default",
        ident[defaulted],
        default_at,
        np.round(rng.lognormal(10.5, 0.8, len(defaulted)), -2),
    )
    subjects, times = _repeat(rng, log, borrower, 0.25 * np.exp(0.2 * z[borrower]))
    log.add(
        "finance.loan.repaid",
        ident[subjects],
        times,
        np.round(rng.lognormal(10.8, 0.9, len(subjects)), -2),
    )
    who = np.flatnonzero(adult & (rng.random(len(z)) < 0.35 + 0.1 * z.clip(-2, 2)))
    subjects, times = _periodic(log, who, 365)
    log.add(
        "finance.assets.verified",
        ident[subjects],
        times,
        np.round(
            np.exp(
                1.5 + 0.5 * z[subjects] + 0.02 * p.age[subjects] + rng.normal(0, 0.6, len(subjects))
            ),
            1,
        ),
    )

    # Utilities: a yearly summary for household heads, overdue bills.
    heads = np.flatnonzero(adult & (rng.random(len(z)) < 0.5))
    subjects, times = _periodic(log, heads, 365)
    overdue_months = rng.poisson(0.4 * np.exp(-0.8 * z[subjects]))
    log.add(
        "utility.bill.paid",
        ident[subjects],
        times,
        np.clip(12 - overdue_months, 0, 12).astype(float),
    )
    subjects, times = _repeat(rng, log, heads, 0.3 * np.exp(-0.9 * z[heads]))
    log.add(
        "utility.bill.overdue",
        ident[subjects],
        times,
        (5 + rng.geometric(0.06, len(subjects))).astype(float),
    )

    # Platform: quarterly order summaries, rentals, fraud.
    shoppers = np.flatnonzero(adult & (p.age < 70) & (rng.random(len(z)) < 0.78))
    subjects, times = _periodic(log, shoppers, 91)
    log.add(
        "commerce.order.completed",
        ident[subjects],
        times,
        rng.poisson(4 + 3 * np.log1p(p.income[subjects] / 3000)).astype(float),
    )
    renters = shoppers[rng.random(len(shoppers)) < 0.45]
    subjects, times = _repeat(rng, log, renters, np.full(len(renters), 1.2))
    log.add("commerce.rental.returned", ident[subjects], times)
    subjects, times = _repeat(rng, log, renters, 0.12 * np.exp(-1.0 * z[renters]))
    log.add(
        "commerce.rental.overdue",
        ident[subjects],
        times,
        (1 + rng.geometric(0.2, len(subjects))).astype(float),
    )
    for record_type, rate, steep in (
        ("commerce.review.fake", 0.01, 1.0),
        ("commerce.refund.fraud", 0.003, 1.5),
    ):
        subjects, times = _repeat(rng, log, shoppers, rate * np.exp(-steep * z[shoppers]))
        value = (
            None
            if record_type.endswith("fake")
            else np.round(rng.lognormal(6, 1, len(subjects)), 0)
        )
        log.add(record_type, ident[subjects], times, value)

    # Police: drivers get tickets; rare serious offences.
    drivers = np.flatnonzero(p.driver)
    for record_type, rate, steep in (
        ("traffic.violation.minor", 0.45, 0.4),
        ("traffic.violation.serious", 0.04, 0.8),
        ("traffic.drunk_driving", 0.003, 1.2),
    ):
        subjects, times = _repeat(rng, log, drivers, rate * np.exp(-steep * z[drivers]))
        log.add(record_type, ident[subjects], times)
    who = np.flatnonzero(adult)
    subjects, times = _repeat(rng, log, who, 0.004 * np.exp(-1.2 * z[who]))
    log.add("public_order.violation", ident[subjects], times)

    # Neighbourhood committees: volunteering, blood, honours, elder care, bravery.
    subjects, times = _repeat(rng, log, who, 0.35 * np.exp(0.6 * z[who]))
    log.add(
        "civic.volunteer.service",
        ident[subjects],
        times,
        (1 + rng.poisson(3, len(subjects))).astype(float),
    )
    young = np.flatnonzero(adult & (p.age < 60))
    subjects, times = _repeat(rng, log, young, 0.08 * np.exp(0.3 * z[young]))
    log.add("civic.blood_donation", ident[subjects], times)
    subjects, times = _repeat(rng, log, who, 0.004 * np.exp(0.8 * z[who]))
    log.add(
        "civic.honor.award",
        ident[subjects],
        times,
        rng.choice([1.0, 2.0, 3.0], len(subjects), p=[0.75, 0.2, 0.05]),
    )
    carers = np.flatnonzero(adult & (p.age >= 35) & (p.age < 65))
    subjects, times = _repeat(rng, log, carers, 0.02 * np.exp(0.5 * z[carers]))
    log.add("civic.family.elder_care", ident[subjects], times)
    subjects, times = _repeat(rng, log, who, np.full(len(who), 0.0008))
    log.add("civic.heroic_act", ident[subjects], times)
    models = who[z[who] > 1.8]
    subjects, times = _repeat(rng, log, models, np.full(len(models), 0.01))
    log.add("civic.honor.integrity_model", ident[subjects], times)

    # Employment: yearly verification of income.
    subjects, times = _periodic(log, np.flatnonzero(p.employed), 365)
    log.add("employment.verified", ident[subjects], times, p.income[subjects])

    # Tax arrears and transport misconduct, rare.
    subjects, times = _repeat(rng, log, who, 0.006 * np.exp(-1.0 * z[who]))
    log.add(
        "tax.individual.arrears",
        ident[subjects],
        times,
        np.round(rng.lognormal(8, 1, len(subjects)), 0),
    )
    for record_type, rate in (
        ("rail.ticket.fraud", 0.0015),
        ("rail.seat.occupying", 0.0008),
        ("aviation.passenger.disruptive", 0.0006),
    ):
        subjects, times = _repeat(rng, log, who, rate * np.exp(-1.0 * z[who]))
        log.add(record_type, ident[subjects], times)

    # Courts: judgments, the dishonest-debtor list, fulfilment and credit repair.
    judged = who[rng.random(len(who)) < 0.005 * years_span * np.exp(-1.2 * z[who])]
    _court(rng, log, ident[judged], z[judged])


def _court(rng: np.random.Generator, log: _Log, ident: np.ndarray, trait: np.ndarray) -> None:
    n = len(ident)
    judged_at = _when(rng, log, n)
    log.add("court.judgment.issued", ident, judged_at, np.round(rng.lognormal(10.5, 1.0, n), -2))
    listed = rng.random(n) < np.clip(0.5 * np.exp(-0.6 * trait), 0, 0.95)
    listed_at = judged_at + rng.integers(30, 200, n) * US_PER_DAY
    grounds = DISHONEST_GROUNDS[rng.choice(len(DISHONEST_GROUNDS), n, p=GROUND_SHARE)]
    for ground in DISHONEST_GROUNDS:
        mask = listed & (grounds == ground)
        log.add(str(ground), ident[mask], listed_at[mask])
    fulfilled = rng.random(n) < np.clip(0.45 + 0.15 * trait, 0.05, 0.9)
    fulfilled_at = np.where(listed, listed_at, judged_at) + rng.integers(20, 500, n) * US_PER_DAY
    log.add("court.judgment.fulfilled", ident[fulfilled], fulfilled_at[fulfilled])
    repaired = fulfilled & listed & (rng.random(n) < 0.3)
    log.add(
        "credit.repair.approved",
        ident[repaired],
        fulfilled_at[repaired] + rng.integers(10, 90, int(repaired.sum())) * US_PER_DAY,
    )
    revoked = listed & ~fulfilled & (rng.random(n) < 0.03)
    log.add(
        "court.listing.revoked",
        ident[revoked],
        listed_at[revoked] + rng.integers(10, 120, int(revoked.sum())) * US_PER_DAY,
    )


def _org_records(rng: np.random.Generator, city: City, log: _Log) -> None:
    o = city.orgs
    ident = np.char.add("cn-uscc:", o.identifier)
    c = o.compliance
    everyone = np.arange(len(ident))
    years_span = (log.end - log.start) / (365 * US_PER_DAY)

    # Companies file taxes monthly; a late month is a tax.filing.late record.
    subjects, times = _periodic(log, everyone, 30)
    late = rng.random(len(subjects)) < 0.04 * np.exp(-0.9 * c[subjects])
    log.add("tax.filing.on_time", ident[subjects[~late]], times[~late])
    log.add(
        "tax.filing.late",
        ident[subjects[late]],
        times[late],
        (1 + rng.geometric(0.05, int(late.sum()))).astype(float),
    )
    subjects, times = _repeat(rng, log, everyone, 0.15 * np.exp(-1.0 * c))
    log.add(
        "tax.payment.overdue",
        ident[subjects],
        times,
        (1 + rng.geometric(0.04, len(subjects))).astype(float),
    )
    for record_type, rate in (("tax.invoice.false", 0.003), ("tax.evasion.major", 0.0015)):
        subjects, times = _repeat(rng, log, everyone, rate * np.exp(-1.6 * c))
        value = (
            np.round(rng.lognormal(13, 1, len(subjects)), -3) if "evasion" in record_type else None
        )
        log.add(record_type, ident[subjects], times, value)

    subjects, times = _periodic(log, everyone, 365)
    missing = rng.random(len(subjects)) < 0.05 * np.exp(-1.0 * c[subjects])
    log.add("market.annual_report.filed", ident[subjects[~missing]], times[~missing])
    log.add("market.annual_report.missing", ident[subjects[missing]], times[missing])
    later = missing & (rng.random(len(subjects)) < 0.5)
    log.add(
        "market.annual_report.filed",
        ident[subjects[later]],
        times[later] + rng.integers(30, 300, int(later.sum())) * US_PER_DAY,
    )
    for record_type, rate, steep in (
        ("market.address.unreachable", 0.008, 1.0),
        ("market.inspection.passed", 0.3, -0.3),
        ("market.violation.minor", 0.1, 0.8),
        ("market.product.safety_violation", 0.01, 1.2),
    ):
        subjects, times = _repeat(rng, log, everyone, rate * np.exp(-steep * c))
        log.add(record_type, ident[subjects], times)
    plants = np.flatnonzero(o.industrial)
    for record_type, rate in (
        ("environment.violation.minor", 0.06),
        ("environment.violation.serious", 0.008),
    ):
        subjects, times = _repeat(rng, log, plants, rate * np.exp(-1.0 * c[plants]))
        log.add(record_type, ident[subjects], times)
    subjects, times = _repeat(rng, log, everyone, 0.1 * np.exp(-1.0 * c))
    log.add(
        "finance.payment.late",
        ident[subjects],
        times,
        (1 + rng.geometric(0.06, len(subjects))).astype(float),
    )
    defaulted = everyone[rng.random(len(everyone)) < 0.012 * years_span * np.exp(-1.2 * c)]
    log.add(
        "finance.loan.default",
        ident[defaulted],
        _when(rng, log, len(defaulted)),
        np.round(rng.lognormal(13, 1, len(defaulted)), -3),
    )

    judged = everyone[rng.random(len(everyone)) < 0.012 * years_span * np.exp(-1.0 * c)]
    _court(rng, log, ident[judged], c[judged])
    # Government bodies can be listed as dishonest debtors too (it happened, and was reformed).
    authorities = city.authorities["identifier"].to_numpy(zero_copy_only=False)
    judged = authorities[rng.random(len(authorities)) < 0.15]
    _court(rng, log, judged, np.zeros(len(judged)))
