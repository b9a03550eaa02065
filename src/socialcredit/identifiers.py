"""Subject identifiers, written `scheme:value`.

- `cn-rid`: the 18-character resident identity number (GB 11643-1999): a 6-digit region, an
  8-digit birth date, a 3-digit sequence (odd for men) and an ISO 7064 MOD 11-2 check
  character (`X` stands for 10).
- `cn-uscc`: the 18-character Unified Social Credit Code (GB 32100-2015): registration authority,
  organization category, 6-digit region, 9-character organization code and a check character,
  over the alphabet 0-9 and A-Y without I, O, S, V, Z, with weights 3^i mod 31.
- `ext:<anything>`: an opaque identifier for tests, pilots and foreign subjects.

`parse()` rejects an invalid identifier with an `IdentifierError` that names the failed part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from socialcredit.errors import IdentifierError
from socialcredit.timeutil import now

SCHEMES = ("cn-rid", "cn-uscc", "ext")

# Province-level prefixes of GB/T 2260 region codes, plus 81/82/83 used by the residence
# permits of Hong Kong, Macao and Taiwan residents.
PROVINCES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
)

_RID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RID_CHECK = "10X98765432"  # index: (sum of weighted digits) mod 11

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORGCODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_EXT_VALUE = re.compile(r"^[^\s:][^\s]{0,199}$")


@dataclass(frozen=True, slots=True)
class Identifier:
    scheme: str
    value: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"

    @property
    def subject_kinds(self) -> tuple[str, ...]:
        """The subject kinds this identifier can belong to."""
        if self.scheme == "cn-rid":
            return ("person",)
        if self.scheme == "cn-uscc":
            return ("organization", "authority")
        return ("person", "organization", "authority")


def parse(text: str) -> Identifier:
    """Parse and validate `scheme:value`; the value is normalised to upper case for cn-* schemes."""
    if not isinstance(text, str) or not text.strip():
        raise IdentifierError(str(text), "identifier", "is empty; expected scheme:value")
    raw = text.strip()
    scheme, sep, value = raw.partition(":")
    if not sep:
        raise IdentifierError(
            raw, "scheme", "missing; write scheme:value, e.g. cn-rid:11010519491231002X"
        )
    scheme = scheme.lower()
    if scheme == "cn-rid":
        return Identifier(scheme, validate_rid(value, raw))
    if scheme == "cn-uscc":
        return Identifier(scheme, validate_uscc(value, raw))
    if scheme == "ext":
        if not _EXT_VALUE.match(value):
            raise IdentifierError(
                raw, "value", "must be 1-200 characters without spaces, not starting with ':'"
            )
        return Identifier(scheme, value)
    raise IdentifierError(raw, "scheme", f"unknown scheme {scheme!r}; expected one of {SCHEMES}")


def validate_rid(value: str, raw: str | None = None) -> str:
    raw = raw or f"cn-rid:{value}"
    value = value.strip().upper()
    if len(value) != 18:
        raise IdentifierError(raw, "length", f"has {len(value)} characters; a cn-rid has 18")
    if not value[:17].isdigit() or not value[:17].isascii():
        bad = next(i for i, ch in enumerate(value[:17]) if not ("0" <= ch <= "9"))
        raise IdentifierError(raw, "digits", f"character {bad + 1} ({value[bad]!r}) is not a digit")
    if not (value[17].isdigit() or value[17] == "X"):
        raise IdentifierError(raw, "check character", f"{value[17]!r} is not a digit or X")
    region = value[:6]
    if int(region[:2]) not in PROVINCES:
        raise IdentifierError(
            raw, "region", f"{region} does not start with a province code of GB/T 2260"
        )
    born = value[6:14]
    try:
        birth = date(int(born[:4]), int(born[4:6]), int(born[6:8]))
    except ValueError:
        raise IdentifierError(raw, "birth date", f"{born} is not a calendar date") from None
    if birth.year < 1850 or birth > now().date():
        raise IdentifierError(raw, "birth date", f"{birth.isoformat()} is not plausible")
    expected = rid_check(value[:17])
    if value[17] != expected:
        raise IdentifierError(
            raw, "check character", f"is {value[17]}, but the ISO 7064 MOD 11-2 check is {expected}"
        )
    return value


def rid_check(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, _RID_WEIGHTS, strict=True))
    return _RID_CHECK[total % 11]


def rid_birth_date(value: str) -> date:
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def make_rid(region: str, birth: date, sequence: int) -> str:
    """Build a valid cn-rid value (used by the synthetic population)."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + rid_check(body)


def validate_uscc(value: str, raw: str | None = None) -> str:
    raw = raw or f"cn-uscc:{value}"
    value = value.strip().upper()
    if len(value) != 18:
        raise IdentifierError(raw, "length", f"has {len(value)} characters; a cn-uscc has 18")
    for i, ch in enumerate(value):
        if ch not in _USCC_VALUE:
            raise IdentifierError(
                raw,
                "alphabet",
                f"character {i + 1} ({ch!r}) is not in 0-9 and A-Y without I, O, S, V, Z",
            )
    region = value[2:8]
    if not region.isdigit():
        raise IdentifierError(raw, "region", f"{region} (characters 3-8) is not 6 digits")
    expected = uscc_check(value[:17])
    if value[17] != expected:
        raise IdentifierError(
            raw, "check character", f"is {value[17]}, but the GB 32100 check is {expected}"
        )
    return value


def uscc_check(first17: str) -> str:
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def orgcode_check(first8: str) -> str:
    """GB 11714 check character of the 9-character organization code inside a USCC."""
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORGCODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_uscc(authority: str, category: str, region: str, org8: str) -> str:
    """Build a valid cn-uscc value (used by the synthetic population)."""
    body = f"{authority}{category}{region}{org8}{orgcode_check(org8)}"
    return body + uscc_check(body)
