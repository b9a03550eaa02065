"""The records of one block: Poisson-many events per subject and type, driven by the latent
traits (low diligence brings late payments and court cases; high diligence volunteering)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.simulate.records import SOURCE_OF, TYPE_SOURCE, US_PER_DAY
from socialcredit.simulate.scale.people import Block

Value = Callable[[np.random.Generator, np.ndarray], np.ndarray] | None


def _days(lo: float, p: float) -> Value:
    return lambda rng, who: (lo + rng.geometric(p, len(who))).astype(float)


def _amount(mu: float, sigma: float) -> Value:
    return lambda rng, who: np.round(rng.lognormal(mu, sigma, len(who)), -2)


# (type, who: adults|borrowers|heads|shoppers|drivers|employed, yearly rate, steepness on the
# trait (rate x exp(steep x z)), value)
PEOPLE: list[tuple[str, str, float, float, Value]] = [
    ("finance.repayment.on_time", "borrowers", 1.6, 0.1, lambda rng, who: np.full(len(who), 3.0)),
    ("finance.payment.late", "borrowers", 0.35, -1.1, _days(1, 0.08)),
    ("finance.loan.default", "borrowers", 0.012, -1.4, _amount(10.5, 0.8)),
    ("finance.loan.repaid", "borrowers", 0.25, 0.2, _amount(10.8, 0.9)),
    ("utility.bill.paid", "heads", 1.0, 0.0, lambda rng, who: np.full(len(who), 12.0)),
    ("utility.bill.overdue", "heads", 0.3, -0.9, _days(5, 0.06)),
    ("commerce.order.completed", "shoppers", 2.0, 0.0, _days(3, 0.25)),
    ("commerce.rental.returned", "shoppers", 0.5, 0.0, None),
    ("commerce.rental.overdue", "shoppers", 0.12, -1.0, _days(1, 0.2)),
    ("commerce.review.fake", "shoppers", 0.01, -1.0, None),
    ("traffic.violation.minor", "drivers", 0.45, -0.4, None),
    ("traffic.violation.serious", "drivers", 0.04, -0.8, None),
    ("traffic.drunk_driving", "drivers", 0.003, -1.2, None),
    ("public_order.violation", "adults", 0.004, -1.2, None),
    ("civic.volunteer.service", "adults", 0.35, 0.6, _days(1, 0.25)),
    ("civic.blood_donation", "adults", 0.05, 0.3, None),
    ("civic.honor.award", "adults", 0.004, 0.8, lambda rng, who: np.ones(len(who))),
    ("employment.verified", "employed", 1.0, 0.0, None),
    ("tax.individual.arrears", "adults", 0.006, -1.0, _amount(8, 1)),
    ("rail.ticket.fraud", "adults", 0.0015, -1.0, None),
    ("court.judgment.issued", "adults", 0.005, -1.2, _amount(10, 1)),
    ("court.dishonest.refuses_to_perform", "adults", 0.002, -1.4, None),
    ("court.judgment.fulfilled", "adults", 0.003, 0.0, None),
    ("education.degree.verified", "adults", 0.05, 0.3, lambda rng, who: np.full(len(who), 2.0)),
    ("identity.verified", "adults", 0.2, 0.0, None),
    ("credit.repair.approved", "adults", 0.001, 0.0, None),
]
ORGS: list[tuple[str, float, float, Value]] = [
    ("tax.filing.on_time", 4.0, 0.1, None),
    ("tax.filing.late", 0.3, -1.0, _days(1, 0.1)),
    ("tax.payment.overdue", 0.1, -1.2, _amount(9, 1)),
    ("tax.invoice.false", 0.005, -1.5, None),
    ("market.annual_report.filed", 1.0, 0.0, None),
    ("market.annual_report.missing", 0.05, -1.2, None),
    ("market.inspection.passed", 0.5, 0.3, None),
    ("market.violation.minor", 0.1, -0.8, None),
    ("environment.violation.minor", 0.05, -0.8, None),
    ("court.judgment.issued", 0.02, -1.0, _amount(12, 1)),
]


def source_of(record_type: str) -> str:
    return TYPE_SOURCE.get(record_type) or SOURCE_OF[record_type.split(".")[0]]


def block_records(rng: np.random.Generator, block: Block, years: int, until: date) -> pa.Table:
    """The block's records: source, record_id, subject, sid, type, occurred_at, received_at,
    value (lake schema, without attrs and supersedes)."""
    end = int(np.datetime64(until, "us").astype(np.int64))
    start = end - years * 365 * US_PER_DAY
    z, age = block.diligence, block.age
    adults = age >= 18
    groups = {
        "adults": np.flatnonzero(adults),
        "borrowers": np.flatnonzero(adults & (age < 75) & (rng.random(len(z)) < 0.55)),
        "heads": np.flatnonzero(adults & (rng.random(len(z)) < 0.5)),
        "shoppers": np.flatnonzero(adults & (age < 70) & (rng.random(len(z)) < 0.78)),
        "drivers": np.flatnonzero(block.driver),
        "employed": np.flatnonzero(block.employed),
    }
    people = len(z)
    who_parts, type_parts, value_parts = [], [], []
    events = [(t, groups[g], r, s, v, z) for t, g, r, s, v in PEOPLE]
    orgs = people + np.arange(len(block.org_sid))
    events += [(t, orgs, r, s, v, np.concatenate([z, block.compliance])) for t, r, s, v in ORGS]
    for index, (_, who, rate, steep, value, trait) in enumerate(events):
        counts = rng.poisson(rate * years * np.exp(steep * trait[who]))
        subjects = np.repeat(who, counts)
        who_parts.append(subjects)
        type_parts.append(np.full(len(subjects), index, dtype=np.int16))
        value_parts.append(value(rng, subjects) if value else np.full(len(subjects), np.nan))
    local = np.concatenate(who_parts)
    kind = np.concatenate(type_parts)
    values = np.concatenate(value_parts)
    occurred = rng.integers(start, end, len(local))
    received = np.minimum(occurred + rng.integers(3_600, 72 * 3_600, len(local)) * 1_000_000, end)
    order = np.lexsort((kind, occurred, local))
    local, kind, values = local[order], kind[order], values[order]
    occurred, received = occurred[order], received[order]
    # record_id: the subject's sid and its record's number within the subject, unique per source.
    first = np.concatenate([[True], local[1:] != local[:-1]]) if len(local) else local.astype(bool)
    sequence = np.arange(len(local)) - np.maximum.accumulate(
        np.where(first, np.arange(len(local)), 0)
    )
    sid = np.concatenate([block.first_sid + np.arange(people), block.org_sid])[local]
    types = pa.array([e[0] for e in events], pa.string())
    sources = pa.array([source_of(e[0]) for e in events], pa.string())
    codes = pa.array(kind.astype(np.int32))
    record_id = pc.binary_join_element_wise(
        pc.cast(pa.array(sid), pa.string()), pc.cast(pa.array(sequence), pa.string()), "-"
    )
    return pa.table(
        {
            "source": sources.take(codes),
            "record_id": record_id,
            "subject": pa.array(block.identifier.astype(object), pa.string()).take(pa.array(local)),
            "sid": pa.array(sid, pa.int64()),
            "type": types.take(codes),
            "occurred_at": pa.array(occurred, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "received_at": pa.array(received, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "value": pa.array(values, pa.float64(), from_pandas=True),
            "attrs": pa.nulls(len(local), pa.string()),
            "supersedes": pa.nulls(len(local), pa.string()),
        }
    )
