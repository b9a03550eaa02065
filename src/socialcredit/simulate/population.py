"""A synthetic city: people in households, organizations with legal representatives and
employees, government bodies, and the relationships between them.

The city is Weihai prefecture (Shandong), whose county-level city Rongcheng ran the best-known
points pilot, so the `rongcheng` pack scores about a quarter of the residents. Every person has
latent traits (diligence, income) that the record generator turns into behaviour, so that scores
correlate with something real rather than noise. Same seed, same city.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from socialcredit.simulate import names

REGIONS = np.array(["371002", "371003", "371082", "371083"])  # Huancui, Wendeng, Rongcheng, Rushan
PLACES = np.array(["Huancui", "Wendeng", "Rongcheng", "Rushan"])
REGION_SHARE = np.array([0.40, 0.20, 0.25, 0.15])


@dataclass(frozen=True)
class CityConfig:
    people: int = 50_000
    orgs: int = 3_000
    authorities: int = 20
    years: int = 2
    seed: int = 7
    until: date = date(2026, 11, 1)


@dataclass(frozen=True)
class People:
    identifier: np.ndarray
    name: np.ndarray
    region: np.ndarray
    born: np.ndarray  # datetime64[D]
    age: np.ndarray  # whole years at `until`
    diligence: np.ndarray  # latent, N(0, 1), shared in part within a household
    income: np.ndarray  # monthly income in CNY (0 when not earning)
    employed: np.ndarray
    driver: np.ndarray
    degree: np.ndarray  # 0 none, 1 vocational, 2 bachelor, 3 master, 4 doctorate


@dataclass(frozen=True)
class Orgs:
    identifier: np.ndarray
    name: np.ndarray
    region: np.ndarray
    founded: np.ndarray
    compliance: np.ndarray  # latent, N(0, 1)
    industrial: np.ndarray
    representative: np.ndarray  # index into People


@dataclass(frozen=True)
class City:
    config: CityConfig
    people: People
    orgs: Orgs
    authorities: pa.Table
    relationships: pa.Table  # from, to, kind, weight, valid_from, valid_to (identifiers)

    def subjects(self) -> pa.Table:
        p, o, a = self.people, self.orgs, self.authorities
        born = p.born.astype("datetime64[Y]").astype(int) + 1970
        return pa.table(
            {
                "identifier": np.concatenate(
                    [
                        np.char.add("cn-rid:", p.identifier),
                        np.char.add("cn-uscc:", o.identifier),
                        a["identifier"].to_numpy(zero_copy_only=False),
                    ]
                ),
                "kind": ["person"] * len(p.identifier)
                + ["organization"] * len(o.identifier)
                + ["authority"] * a.num_rows,
                "name": np.concatenate([p.name, o.name, a["name"].to_numpy(zero_copy_only=False)]),
                "region": np.concatenate(
                    [p.region, o.region, a["region"].to_numpy(zero_copy_only=False)]
                ),
                "born": pa.array(
                    np.concatenate([born, o.founded, a["founded"].to_numpy()]), pa.int64()
                ),
            }
        )


def build_city(config: CityConfig) -> City:
    rng = np.random.default_rng(config.seed)
    people = _people(rng, config)
    orgs = _orgs(rng, config, people)
    authorities = _authorities(config)
    relationships = _relationships(rng, config, people, orgs)
    return City(config, people, orgs, authorities, relationships)


def _people(rng: np.random.Generator, config: CityConfig) -> People:
    n = config.people
    # An ageing coastal city: about 16% children, 62% of working age, 22% over 60.
    band = rng.choice(3, size=n, p=[0.16, 0.62, 0.22])
    age = np.select(
        [band == 0, band == 1],
        [rng.integers(0, 18, n), rng.integers(18, 60, n)],
        rng.integers(60, 95, n),
    )
    born = names.birth_dates(rng, age, config.until)
    region = REGIONS[rng.choice(len(REGIONS), size=n, p=REGION_SHARE)]
    male = rng.random(n) < 0.5
    adult = age >= 18
    working = (age >= 22) & (age < 63)
    degree = np.where(
        adult & (age < 65),
        rng.choice(5, size=n, p=[0.45, 0.2, 0.27, 0.07, 0.01]),
        0,
    )
    diligence = rng.standard_normal(n)
    employed = working & (rng.random(n) < 0.72 + 0.05 * diligence.clip(-2, 2))
    base_income = np.exp(8.4 + 0.25 * degree + 0.25 * diligence + 0.35 * rng.standard_normal(n))
    income = np.where(employed, np.round(base_income, -1), 0.0)
    driver = adult & (age < 75) & (rng.random(n) < 0.55)
    return People(
        identifier=names.resident_ids(region, born, male),
        name=names.person_names(rng, n),
        region=region,
        born=born,
        age=age,
        diligence=diligence,
        income=income,
        employed=employed,
        driver=driver,
        degree=degree,
    )


def _orgs(rng: np.random.Generator, config: CityConfig, people: People) -> Orgs:
    n = config.orgs
    where = rng.choice(len(REGIONS), size=n, p=REGION_SHARE)
    candidates = np.flatnonzero((people.age >= 28) & (people.age < 70))
    representative = (
        rng.choice(candidates, size=n, replace=False)
        if len(candidates) >= n
        else rng.choice(candidates, size=n)
    )
    compliance = 0.6 * people.diligence[representative] + 0.8 * rng.standard_normal(n)
    return Orgs(
        identifier=names.credit_codes(REGIONS[where], "9", "1", start=10_000_000),
        name=names.org_names(rng, n, PLACES[where]),
        region=REGIONS[where],
        founded=config.until.year - rng.integers(1, 35, n),
        compliance=compliance,
        industrial=rng.random(n) < 0.4,
        representative=representative,
    )


def _authorities(config: CityConfig) -> pa.Table:
    n = config.authorities
    agencies = [names.AGENCIES[i % len(names.AGENCIES)] for i in range(n)]
    regions = np.array(["371000"] * n)
    codes = names.credit_codes(regions, "1", "1", start=90_000_000)
    return pa.table(
        {
            "identifier": np.char.add("cn-uscc:", codes),
            "name": [
                f"Weihai {a}"
                + (f" ({i // len(names.AGENCIES) + 1})" if i >= len(names.AGENCIES) else "")
                for i, a in enumerate(agencies)
            ],
            "region": regions,
            "founded": np.full(n, 1987),
        }
    )


def _relationships(rng: np.random.Generator, config: CityConfig, p: People, o: Orgs) -> pa.Table:
    rid = np.char.add("cn-rid:", p.identifier)
    uscc = np.char.add("cn-uscc:", o.identifier)
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    kind: list[str] = []
    start: list[np.ndarray] = []
    end: list[np.ndarray] = []
    none = np.datetime64("NaT", "D")

    def add(
        a: np.ndarray,
        b: np.ndarray,
        k: str,
        s: np.ndarray | None = None,
        e: np.ndarray | None = None,
    ) -> None:
        src.append(a)
        dst.append(b)
        kind.extend([k] * len(a))
        start.append(s if s is not None else np.full(len(a), none))
        end.append(e if e is not None else np.full(len(a), none))

    # Couples: adults of similar age, paired after sorting by age with a little noise.
    adults = np.flatnonzero(p.age >= 22)
    married = adults[rng.random(len(adults)) < 0.66]
    married = married[np.argsort(p.age[married] + rng.normal(0, 2.5, len(married)))]
    married = married[: len(married) // 2 * 2]
    husband, wife = married[0::2], married[1::2]
    # Spouses resemble each other a little: pull their diligence together.
    shared = (p.diligence[husband] + p.diligence[wife]) / 2
    p.diligence[husband] = 0.6 * p.diligence[husband] + 0.4 * shared
    p.diligence[wife] = 0.6 * p.diligence[wife] + 0.4 * shared
    add(rid[husband], rid[wife], "spouse")

    # Children go to a couple 24-40 years older, when there is one.
    children = np.flatnonzero(p.age < 18)
    couple_age = (p.age[husband] + p.age[wife]) / 2
    order = np.argsort(couple_age)
    target = p.age[children] + rng.uniform(24, 40, len(children))
    slot = np.clip(
        np.searchsorted(couple_age[order], target) + rng.integers(-25, 25, len(children)),
        0,
        len(order) - 1,
    )
    family = order[slot]
    plausible = np.abs(couple_age[family] - target) < 12
    children, family = children[plausible], family[plausible]
    birth = p.born[children]
    adult_day = names.add_years(birth, 18)
    for parent in (husband[family], wife[family]):
        add(rid[parent], rid[children], "guardian", birth, adult_day)
        add(rid[parent], rid[children], "household")
        p.diligence[children] = 0.5 * p.diligence[children] + 0.5 * p.diligence[parent]

    # Elderly parents living with a couple.
    elders = np.flatnonzero(p.age >= 65)
    hosts = rng.choice(len(husband), size=min(len(elders) // 3, len(husband)), replace=False)
    lodgers = rng.choice(elders, size=len(hosts), replace=False)
    add(rid[lodgers], rid[husband[hosts]], "household")
    add(rid[lodgers], rid[wife[hosts]], "household")

    # Contacts: homophily by diligence and region (neighbours in a noisy sort), plus chance.
    grown = np.flatnonzero(p.age >= 16)
    key = (
        p.diligence[grown]
        + rng.normal(0, 0.8, len(grown))
        + 3.0 * (np.searchsorted(REGIONS, p.region[grown]))
    )
    ring = grown[np.argsort(key)]
    for offset in (1, 2, 3):
        keep = rng.random(len(ring) - offset) < 0.55
        add(rid[ring[:-offset][keep]], rid[ring[offset:][keep]], "contact")
    random_a = rng.choice(grown, size=len(grown) // 2)
    random_b = rng.choice(grown, size=len(grown) // 2)
    distinct = random_a != random_b
    add(rid[random_a[distinct]], rid[random_b[distinct]], "contact")

    # Organizations: a legal representative (also a shareholder, mostly) and employees.
    add(rid[o.representative], uscc, "legal_representative")
    owners = rng.random(len(uscc)) < 0.7
    add(rid[o.representative[owners]], uscc[owners], "shareholder")
    workers = np.flatnonzero(p.employed)
    size = rng.zipf(1.6, len(uscc)).clip(1, 2000).astype(float)
    employer = rng.choice(len(uscc), size=len(workers), p=size / size.sum())
    add(uscc[employer], rid[workers], "employer")

    frame = pa.table(
        {
            "from": np.concatenate(src),
            "to": np.concatenate(dst),
            "kind": kind,
            "weight": np.ones(sum(len(a) for a in src)),
            "valid_from": pa.array(np.concatenate(start), pa.date32()),
            "valid_to": pa.array(np.concatenate(end), pa.date32()),
        }
    )
    return frame
