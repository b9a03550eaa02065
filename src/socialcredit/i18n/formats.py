"""Dates, numbers, money and percentages as a reader of the language in use writes them (CLDR
data, through Babel): `2026年3月2日` and `March 2, 2026`, `¥218,300` and `CN¥218,300`."""

from __future__ import annotations

from datetime import date, datetime

from babel import dates, numbers

from socialcredit.i18n.languages import LOCALES, current
from socialcredit.timeutil import parse_instant

MISSING = "–"


def _locale() -> str:
    return LOCALES[current()]


def _moment(value: datetime | date | str) -> datetime | date:
    return parse_instant(value) if isinstance(value, str) else value


def format_date(value: datetime | date | str | None) -> str:
    """A day: `March 2, 2026` / `2026年3月2日` (instants are shown as their UTC day)."""
    if value is None or value == "":
        return ""
    return dates.format_date(_moment(value), "long", locale=_locale())


def format_datetime(value: datetime | str | None) -> str:
    """A day and a time of day in UTC, saying so: `March 2, 2026, 14:05 UTC`."""
    if value is None or value == "":
        return ""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return format_date(moment)
    day = dates.format_date(moment, "long", locale=_locale())
    clock = dates.format_time(moment, "HH:mm", locale=_locale())
    return f"{day} {clock} UTC"


def format_number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=_locale())


def format_signed(value: float | None, digits: int = 2) -> str:
    """With its sign always shown, and a real minus sign: `+12.50`, `−3.00`."""
    if value is None:
        return MISSING
    body = format_number(abs(value), digits)
    return ("+" if value >= 0 else "−") + body


def format_money(value: float | None, currency: str = "CNY") -> str:
    """`¥218,300` (zh-CN) or `CN¥218,300` (en); cents only when there are some."""
    if value is None:
        return MISSING
    whole = float(value).is_integer()
    return numbers.format_currency(
        value,
        currency,
        format="¤#,##0" if whole else "¤#,##0.00",
        currency_digits=False,
        locale=_locale(),
    )


def format_percent(value: float | None, digits: int = 0) -> str:
    """A share (0.42) as a percentage: `42%`."""
    if value is None:
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return numbers.format_percent(value, format=pattern, locale=_locale())
