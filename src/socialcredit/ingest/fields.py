"""Field parsers shared by every import: each returns the value or raises ValueError(reason).

They accept only what both stores can hold the same way: printable text, finite numbers of a
sane size, instants between years 1 and 9999 in UTC, JSON objects without NaN or NUL.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from socialcredit.errors import InvalidInput
from socialcredit.timeutil import as_utc, parse_instant

MAX_VALUE = 1e12  # |value| bound: amounts in CNY, days, hours all fit with room to spare
MAX_ATTRS = 65_536  # characters of an attrs object, serialised


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
    if not result.isprintable():
        bad = next(c for c in result if not c.isprintable())
        raise ValueError(f"contains the unprintable character U+{ord(bad):04X}")
    return result


def instant(value: Any, required: bool = True) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError("is required (ISO 8601, e.g. 2025-03-01T08:30:00Z)")
        return None
    try:
        if isinstance(value, datetime | date):
            return as_utc(value)
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp")
        return parse_instant(value)
    except InvalidInput as error:
        raise ValueError(error.reason) from None
    except OverflowError:
        raise ValueError(f"{value!r} is out of range in UTC") from None


def number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        result = float(value)
    except OverflowError:
        raise ValueError(f"{_shown(value)} is larger than {MAX_VALUE:g} in size") from None
    except (TypeError, ValueError):
        raise ValueError(f"{_shown(value)} is not a number") from None
    if not math.isfinite(result):
        raise ValueError(f"{value!r} is not a finite number")
    if abs(result) > MAX_VALUE:
        raise ValueError(f"{value!r} is larger than {MAX_VALUE:g} in size")
    return result


def _shown(value: Any) -> str:
    """A short repr for a message; an integer too long to print (Python refuses past 4,300
    digits) is described by its size instead."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"a whole number of about {round(value.bit_length() * 0.30103)} digits"
    return repr(str(value)[:40])


def integer(value: Any, low: int, high: int) -> int | None:
    result = number(value)
    if result is None:
        return None
    if result != int(result):
        raise ValueError(f"{value!r} is not a whole number")
    if not low <= result <= high:
        raise ValueError(f"{int(result)} is not between {low} and {high}")
    return int(result)


class _Constant(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise _Constant(f"{name} is not valid JSON")


def json_object(value: Any) -> dict[str, Any] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_constant=_no_constants)
        except json.JSONDecodeError as error:
            raise ValueError(f"is not valid JSON ({error.msg})") from None
        except RecursionError:
            raise ValueError("is nested too deeply") from None
        except _Constant:
            raise
        except ValueError as error:  # an integer past Python's digit limit (4,300)
            raise ValueError(f"is not valid JSON ({str(error).split(';')[0]})") from None
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    try:
        serialised = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot be stored as JSON ({error})") from None
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    if len(serialised) > MAX_ATTRS:
        raise ValueError(f"is {len(serialised)} characters as JSON; at most {MAX_ATTRS}")
    if "\\u0000" in serialised or _has_surrogate(value):
        raise ValueError("contains a NUL character or a lone surrogate")
    return value


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False
