"""People, organizations and relationships of one block, with valid cn-rid and cn-uscc."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from socialcredit.identifiers import USCC_ALPHABET
from socialcredit.simulate import names

BLOCK = 16_384  # people per block: the unit of seeding (one county-level region each)
# GB/T 2260 province codes (mainland)
_PROVINCES = np.r_[11:16, 21:24, 31:38, 41:47, 50:55, 61:66]
_WEIHAI = ("371002", "371003", "371082", "371083")  # the first blocks: the synthetic city's
_RID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_RID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ALPHABET = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_VALUE_OF = np.full(128, -1, dtype=np.int64)
_VALUE_OF[_ALPHABET] = np.arange(len(_ALPHABET))


@dataclass(frozen=True)
class Shape:
    """The population: sids are 1..people for persons, then the organizations."""

    people: int
    orgs: int
    seed: int
    until: date

    @property
    def blocks(self) -> int:
        return -(-self.people // BLOCK)

    def people_of(self, block: int) -> tuple[int, int]:
        return block * BLOCK, min(self.people, (block + 1) * BLOCK)

    def orgs_of(self, block: int) -> tuple[int, int]:
        return block * self.orgs // self.blocks, (block + 1) * self.orgs // self.blocks


@dataclass(frozen=True)
class Block:
    first_sid: int
    identifier: np.ndarray  # "cn-rid:..." per person, then "cn-uscc:..." per organization
    age: np.ndarray
    diligence: np.ndarray  # latent N(0, 1), pulled together within households
    income: np.ndarray
    employed: np.ndarray
    driver: np.ndarray
    org_sid: np.ndarray
    compliance: np.ndarray  # latent, per organization
    subjects: pa.Table  # lake subjects schema, minus registered_at
    relationships: pa.Table  # src, dst, kind, valid_from_us, valid_to_us


def region_of(block: int) -> str:
    """A distinct 6-digit region code per block (Weihai's four counties first)."""
    if block < len(_WEIHAI):
        return _WEIHAI[block]
    n = block - len(_WEIHAI)
    province = _PROVINCES[n % len(_PROVINCES)]
    rest = n // len(_PROVINCES)
    return f"{province:02d}{1 + rest // 99 % 99:02d}{1 + rest % 99:02d}"


def _digits(text: np.ndarray, width: int) -> np.ndarray:
    return np.frombuffer(text.astype(f"S{width}").tobytes(), dtype=np.uint8).reshape(-1, width)


def resident_ids(region: str, born: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Unique valid cn-rids in one region: birth date, a sequence per date (odd for men), the
    ISO 7064 MOD 11-2 check, computed on a digit matrix."""
    n = len(born)
    order = np.argsort(born, kind="stable")
    first = np.concatenate([[True], born[order][1:] != born[order][:-1]])
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - start
    if rank.max(initial=0) > 498:
        raise ValueError("too many people born on one day in one block for unique cn-rids")
    dates = np.char.replace(born.astype("datetime64[D]").astype(str), "-", "")
    sequence = np.char.zfill((2 * rank + np.where(male, 1, 2)).astype(str), 3)
    body = np.char.add(np.char.add(region, dates), sequence)
    digits = _digits(body, 17).astype(np.int64) - 48
    check = _RID_CHECK[(digits @ _RID_WEIGHTS) % 11].view("S1").astype(str)
    return np.char.add("cn-rid:", np.char.add(body, check))


def credit_codes(region: str, numbers: np.ndarray) -> np.ndarray:
    """Valid cn-uscc (enterprise, company) with numbered organization codes; checks vectorised."""
    org8 = np.char.zfill(numbers.astype(str), 8)
    org_check = 11 - (_digits(org8, 8).astype(np.int64) - 48) @ _ORG_WEIGHTS % 11
    check8 = np.where(org_check == 10, "X", np.where(org_check == 11, "0", org_check.astype(str)))
    body = np.char.add(np.char.add(f"91{region}", org8), check8)
    codes = _VALUE_OF[_digits(body, 17)]
    check = _ALPHABET[(31 - (codes @ _USCC_WEIGHTS) % 31) % 31].view("S1").astype(str)
    return np.char.add("cn-uscc:", np.char.add(body, check))


def build_block(shape: Shape, block: int) -> Block:
    rng = np.random.default_rng([shape.seed, block])
    lo, hi = shape.people_of(block)
    n = hi - lo
    region = region_of(block)
    band = rng.choice(3, size=n, p=[0.16, 0.62, 0.22])
    age = np.select(
        [band == 0, band == 1],
        [rng.integers(0, 18, n), rng.integers(18, 60, n)],
        rng.integers(60, 95, n),
    )
    born = names.birth_dates(rng, age, shape.until)
    male = rng.random(n) < 0.5
    diligence = rng.standard_normal(n)
    working = (age >= 22) & (age < 63)
    employed = working & (rng.random(n) < 0.72 + 0.05 * diligence.clip(-2, 2))
    income = np.where(employed, np.round(np.exp(8.4 + 0.3 * diligence), -1), 0.0)
    driver = (age >= 18) & (age < 75) & (rng.random(n) < 0.55)
    sids = 1 + lo + np.arange(n, dtype=np.int64)

    o_lo, o_hi = shape.orgs_of(block)
    m = o_hi - o_lo
    org_sid = 1 + shape.people + o_lo + np.arange(m, dtype=np.int64)
    candidates = np.flatnonzero((age >= 28) & (age < 70))
    representative = candidates[rng.integers(0, len(candidates), m)] if len(candidates) else None
    compliance = rng.standard_normal(m)
    if representative is not None:
        compliance = 0.6 * diligence[representative] + 0.8 * compliance

    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    never = np.iinfo(np.int64).min

    def add(
        a: np.ndarray,
        b: np.ndarray,
        kind: str,
        s: np.ndarray | None = None,
        e: np.ndarray | None = None,
    ) -> None:
        src.append(a)
        dst.append(b)
        kinds.append(np.full(len(a), kind, dtype=object))
        starts.append(np.full(len(a), never) if s is None else s)
        ends.append(np.full(len(a), never) if e is None else e)

    adults = np.flatnonzero(age >= 22)
    married = adults[rng.random(len(adults)) < 0.66]
    married = married[np.argsort(age[married] + rng.normal(0, 2.5, len(married)))]
    married = married[: len(married) // 2 * 2]
    husband, wife = married[0::2], married[1::2]
    shared = (diligence[husband] + diligence[wife]) / 2
    diligence[husband] = 0.6 * diligence[husband] + 0.4 * shared
    diligence[wife] = 0.6 * diligence[wife] + 0.4 * shared
    add(sids[husband], sids[wife], "spouse")
    children = np.flatnonzero(age < 18)
    if len(husband):
        couple_age = (age[husband] + age[wife]) / 2
        order = np.argsort(couple_age)
        target = age[children] + rng.uniform(24, 40, len(children))
        slot = np.clip(np.searchsorted(couple_age[order], target), 0, len(order) - 1)
        family = order[slot]
        keep = np.abs(couple_age[family] - target) < 12
        children, family = children[keep], family[keep]
        birth_us = born[children].astype("datetime64[us]").astype(np.int64)
        adult_us = names.add_years(born[children], 18).astype("datetime64[us]").astype(np.int64)
        for parent in (husband[family], wife[family]):
            add(sids[parent], sids[children], "guardian", birth_us, adult_us)
            add(sids[parent], sids[children], "household")
            diligence[children] = 0.5 * diligence[children] + 0.5 * diligence[parent]
    grown = np.flatnonzero(age >= 16)
    ring = grown[np.argsort(diligence[grown] + rng.normal(0, 0.8, len(grown)))]
    for offset in (1, 2, 3):
        keep = rng.random(max(len(ring) - offset, 0)) < 0.55
        add(sids[ring[:-offset][keep]], sids[ring[offset:][keep]], "contact")
    far = grown[rng.random(len(grown)) < 0.5]
    other = 1 + rng.integers(0, shape.people, len(far))
    add(sids[far[other != sids[far]]], other[other != sids[far]], "contact")
    if representative is not None:
        add(sids[representative], org_sid, "legal_representative")
        owners = rng.random(m) < 0.7
        add(sids[representative[owners]], org_sid[owners], "shareholder")
    workers = np.flatnonzero(employed)
    if shape.orgs:
        if m:
            size = rng.zipf(1.6, m).clip(1, 2000).astype(float)
            employer = org_sid[rng.choice(m, size=len(workers), p=size / size.sum())]
        else:
            employer = 1 + shape.people + rng.integers(0, shape.orgs, len(workers))
        add(employer, sids[workers], "employer")

    org_numbers = 10_000_000 + o_lo + np.arange(m)
    identifier = np.concatenate(
        [resident_ids(region, born, male), credit_codes(region, org_numbers)]
    )
    founded = shape.until.year - rng.integers(1, 35, m)
    subjects = pa.table(
        {
            "sid": pa.array(np.concatenate([sids, org_sid]), pa.int64()),
            "identifier": pa.array(identifier.astype(object), pa.string()),
            "kind": pa.array(["person"] * n + ["organization"] * m, pa.string()),
            "name": pa.array(
                np.concatenate(
                    [names.person_names(rng, n), names.org_names(rng, m, np.full(m, "Zhongguo"))]
                ).astype(object),
                pa.string(),
            ),
            "region": pa.array([region] * (n + m), pa.string()),
            "born": pa.array(
                np.concatenate([born.astype("datetime64[Y]").astype(np.int64) + 1970, founded]),
                pa.int64(),
            ),
        }
    )
    start_us = np.concatenate(starts) if starts else np.array([], np.int64)
    end_us = np.concatenate(ends) if ends else np.array([], np.int64)
    relationships = pa.table(
        {
            "src": pa.array(np.concatenate(src), pa.int64()),
            "dst": pa.array(np.concatenate(dst), pa.int64()),
            "kind": pa.array(np.concatenate(kinds), pa.string()),
            "valid_from_us": pa.array(start_us, pa.int64(), mask=start_us == never),
            "valid_to_us": pa.array(end_us, pa.int64(), mask=end_us == never),
        }
    )
    return Block(
        first_sid=int(sids[0]) if n else 0,
        identifier=identifier,
        age=age,
        diligence=diligence,
        income=income,
        employed=employed,
        driver=driver,
        org_sid=org_sid,
        compliance=compliance,
        subjects=subjects,
        relationships=relationships,
    )
