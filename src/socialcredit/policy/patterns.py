"""Record type patterns: an exact dotted type (`finance.payment.late`) or a prefix (`finance.*`).

Where several patterns match a type, the most specific wins: an exact type beats every prefix,
and a longer prefix beats a shorter one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
PATTERN_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$")


def check_type(value: str) -> str | None:
    """None when `value` is a valid record type, else the reason it is not."""
    if TYPE_RE.match(value):
        return None
    return (
        f"{value!r} is not a record type: use dotted lower-case words with at least two parts, "
        "e.g. finance.payment.late"
    )


def check_pattern(value: str) -> str | None:
    if PATTERN_RE.match(value) and (value.endswith(".*") or TYPE_RE.match(value)):
        return None
    return (
        f"{value!r} is not a record type pattern: write an exact type (finance.payment.late) "
        "or a prefix ending in .* (finance.*)"
    )


def matches(pattern: str, record_type: str) -> bool:
    if pattern.endswith(".*"):
        return record_type.startswith(pattern[:-1])
    return pattern == record_type


def specificity(pattern: str) -> tuple[int, int]:
    """Sort key: larger is more specific."""
    if pattern.endswith(".*"):
        return (0, pattern.count(".") - 1)
    return (1, pattern.count("."))


def most_specific(patterns: Iterable[str], record_type: str) -> str | None:
    candidates = [p for p in patterns if matches(p, record_type)]
    if not candidates:
        return None
    return max(candidates, key=specificity)


def any_match(patterns: Iterable[str], record_type: str) -> bool:
    return any(matches(p, record_type) for p in patterns)
