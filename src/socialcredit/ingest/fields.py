"""Field parsers shared by every import: each returns the value or raises ValueError(reason)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from socialcredit.errors import InvalidInput
from socialcredit.timeutil import as_utc, parse_instant


def text(value: Any, max_length: int = 200, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError("is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{value!r} is not text")
    result = str(value).strip()
    if len(result) > max_length:
        raise ValueError(f"is {len(result)} characters long; at most {max_length}")
    return result


def instant(value: Any, required: bool = True) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError("is required (ISO 8601, e.g. 2025-03-01T08:30:00Z)")
        return None
    if isinstance(value, datetime | date):
        return as_utc(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp")
    try:
        return parse_instant(value)
    except InvalidInput as error:
        raise ValueError(error.reason) from None


def number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(result):
        raise ValueError(f"{value!r} is not a finite number")
    return result


def integer(value: Any, low: int, high: int) -> int | None:
    result = number(value)
    if result is None:
        return None
    if result != int(result):
        raise ValueError(f"{value!r} is not a whole number")
    if not low <= result <= high:
        raise ValueError(f"{int(result)} is not between {low} and {high}")
    return int(result)


def json_object(value: Any) -> dict[str, Any] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"is not valid JSON ({error.msg})") from None
        if isinstance(parsed, dict):
            return parsed
    raise ValueError("must be a JSON object")
