"""Instants and durations.

Every instant inside the system is UTC. The engine works in integer microseconds since the Unix
epoch (`us`), which every engine and both SQL stores represent exactly.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, date, datetime, timedelta

from socialcredit.errors import InvalidInput

US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_DURATION = re.compile(r"^([1-9][0-9]*)([dwy])$")
_DAYS_PER_UNIT = {"d": 1, "w": 7, "y": 365}


def parse_instant(text: str, field: str = "timestamp") -> datetime:
    """Parse ISO 8601 (`2025-03-01`, `…T08:00`, `…Z`, `…+08:00`) into an aware UTC datetime.

    A date alone means midnight UTC; a time without an offset is taken as UTC.
    """
    value = text.strip()
    if not value:
        raise InvalidInput(field, "is empty; expected an ISO 8601 date or timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field, f"{text!r} is not an ISO 8601 timestamp (e.g. 2025-03-01T08:30:00Z)"
        ) from None
    return as_utc(parsed)


def as_utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_us(moment: datetime) -> int:
    return (as_utc(moment) - _EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


CLOCK_VARIABLE = "SCS_NOW"


def now() -> datetime:
    """The one clock: every "now" in the system (received_at, deadlines, expiries, notices,
    sweeps, audit entries) comes from here.

    `SCS_NOW=<ISO 8601>` freezes it, for tests, demos and simulations, in every command and in
    the service; read on every call, so a test may move it forward between two steps.
    """
    frozen = os.environ.get(CLOCK_VARIABLE)
    if frozen:
        return parse_instant(frozen, CLOCK_VARIABLE)
    return datetime.now(UTC)


def now_us() -> int:
    """`now()` in microseconds since the epoch (the audit log's hot path)."""
    frozen = os.environ.get(CLOCK_VARIABLE)
    if frozen:
        return to_us(parse_instant(frozen, CLOCK_VARIABLE))
    return time.time_ns() // 1000


def parse_duration_days(text: str) -> int:
    """`730d`, `2w`, `5y` → days (a year is 365 days). Raises ValueError with the reason."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a duration; write <int>d, <int>w or <int>y (e.g. 730d)")
    return int(match.group(1)) * _DAYS_PER_UNIT[match.group(2)]


def format_instant(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = as_utc(moment).isoformat()
    return text.replace("+00:00", "Z")
