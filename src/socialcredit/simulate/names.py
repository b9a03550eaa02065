"""Synthetic names and identifiers, drawn from a seeded generator (no real person is named)."""

from __future__ import annotations

from datetime import date

import numpy as np

from socialcredit.identifiers import USCC_ALPHABET

SURNAMES = np.array(
    [
        "Wang",
        "Li",
        "Zhang",
        "Liu",
        "Chen",
        "Yang",
        "Huang",
        "Zhao",
        "Wu",
        "Zhou",
        "Xu",
        "Sun",
        "Ma",
        "Zhu",
        "Hu",
        "Guo",
        "He",
        "Lin",
        "Gao",
        "Luo",
        "Zheng",
        "Liang",
        "Xie",
        "Song",
        "Tang",
        "Han",
        "Feng",
        "Deng",
        "Cao",
        "Peng",
        "Zeng",
        "Xiao",
        "Tian",
        "Dong",
        "Pan",
        "Yuan",
    ]
)
SYLLABLES = np.array(
    [
        "an",
        "bin",
        "bo",
        "chen",
        "dong",
        "fang",
        "fei",
        "gang",
        "hai",
        "hao",
        "hong",
        "hua",
        "hui",
        "jia",
        "jian",
        "jie",
        "jing",
        "jun",
        "kai",
        "lan",
        "lei",
        "li",
        "lin",
        "ling",
        "mei",
        "min",
        "ming",
        "na",
        "ning",
        "peng",
        "ping",
        "qiang",
        "qing",
        "rui",
        "shan",
        "tao",
        "ting",
        "wei",
        "wen",
        "xia",
        "xin",
        "xue",
        "yan",
        "yang",
        "yi",
        "ying",
        "yong",
        "yu",
        "yun",
        "zhen",
        "zhi",
        "zhong",
    ]
)
FIRMS = np.array(
    [
        "Haiyu",
        "Jinghua",
        "Dongfang",
        "Xinhe",
        "Huatai",
        "Weigang",
        "Shenghai",
        "Longxiang",
        "Tianhe",
        "Ruifeng",
        "Hengtong",
        "Jiayuan",
        "Boyuan",
        "Mingde",
        "Zhongxin",
        "Anda",
    ]
)
TRADES = np.array(
    [
        "Fisheries",
        "Marine Foods",
        "Textiles",
        "Machinery",
        "Logistics",
        "Trading",
        "Tyres",
        "Construction",
        "Software",
        "Medical Devices",
        "Tourism",
        "Furniture",
        "Electronics",
        "Catering",
        "Real Estate",
        "Printing",
    ]
)
AGENCIES = [
    "Intermediate People's Court",
    "Public Security Bureau",
    "Taxation Bureau",
    "Market Supervision Administration",
    "Ecology and Environment Bureau",
    "Education Bureau",
    "Civil Affairs Bureau",
    "Housing and Urban-Rural Development Bureau",
    "Transport Bureau",
    "Human Resources and Social Security Bureau",
    "Health Commission",
    "Finance Bureau",
    "Development and Reform Commission",
    "Culture and Tourism Bureau",
    "Water Resources Bureau",
    "Natural Resources Bureau",
    "Emergency Management Bureau",
    "Statistics Bureau",
    "Agriculture and Rural Affairs Bureau",
    "Commerce Bureau",
]

_RID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_RID_CHECK = np.array(list("10X98765432"))
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ALPHABET = np.array(list(USCC_ALPHABET))


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surname = SURNAMES[rng.integers(0, len(SURNAMES), n)]
    first = SYLLABLES[rng.integers(0, len(SYLLABLES), n)]
    second = SYLLABLES[rng.integers(0, len(SYLLABLES), n)]
    single = rng.random(n) < 0.3
    given = np.where(single, first, np.char.add(first, second))
    given = np.char.capitalize(given)
    return np.char.add(np.char.add(surname, " "), given)


def org_names(rng: np.random.Generator, n: int, places: np.ndarray) -> np.ndarray:
    firm = FIRMS[rng.integers(0, len(FIRMS), n)]
    trade = TRADES[rng.integers(0, len(TRADES), n)]
    number = rng.integers(1, 100, n).astype(str)
    name = np.char.add(np.char.add(places, " "), firm)
    name = np.char.add(np.char.add(name, " "), trade)
    return np.char.add(np.char.add(np.char.add(name, " No."), number), " Co., Ltd.")


def resident_ids(regions: np.ndarray, births: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Valid, unique cn-rid values: region + birth date + sequence (odd for men) + check."""
    n = len(regions)
    key = np.char.add(regions.astype(str), births.astype("datetime64[D]").astype(str))
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]])
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    if rank.max(initial=0) > 498:
        raise ValueError("too many people born on one day in one region for unique cn-rids")
    sequence = 2 * rank + np.where(male, 1, 2)
    dates = np.char.replace(births.astype("datetime64[D]").astype(str), "-", "")
    body = np.char.add(
        np.char.add(regions.astype(str), dates), np.char.zfill(sequence.astype(str), 3)
    )
    digits = np.frombuffer("".join(body.tolist()).encode(), dtype=np.uint8).reshape(n, 17) - 48
    check = _RID_CHECK[(digits.astype(np.int64) @ _RID_WEIGHTS) % 11]
    return np.char.add(body, check)


def credit_codes(regions: np.ndarray, authority: str, category: str, start: int) -> np.ndarray:
    """Valid, unique cn-uscc values with numbered organization codes."""
    n = len(regions)
    org8 = np.char.zfill((np.arange(n) + start).astype(str), 8)
    org_digits = np.frombuffer("".join(org8.tolist()).encode(), dtype=np.uint8).reshape(n, 8) - 48
    org_check = 11 - (org_digits.astype(np.int64) @ _ORG_WEIGHTS) % 11
    org_check_ch = np.where(
        org_check == 10, "X", np.where(org_check == 11, "0", org_check.astype(str))
    )
    body = np.char.add(
        np.char.add(f"{authority}{category}", regions.astype(str)), np.char.add(org8, org_check_ch)
    )
    values = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
    codes = np.array([[values[ch] for ch in b] for b in body.tolist()], dtype=np.int64)
    check = _ALPHABET[(31 - (codes @ _USCC_WEIGHTS) % 31) % 31]
    return np.char.add(body, check)


def birth_dates(rng: np.random.Generator, ages: np.ndarray, today: date) -> np.ndarray:
    days = (ages * 365.25 + rng.uniform(0, 365, len(ages))).astype(np.int64)
    return np.datetime64(today) - days.astype("timedelta64[D]")


def add_years(day: np.ndarray, years: int) -> np.ndarray:
    return day + np.timedelta64(int(years * 365.25), "D")
