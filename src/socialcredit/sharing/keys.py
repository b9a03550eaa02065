"""API keys: minted once, stored hashed, compared in constant time.

A key reads `scs_<prefix>_<secret>`. The prefix (8 characters) is public: `scs keys list` and the
audit log name a key by it. The store keeps only the SHA-256 of the whole key, so a copy of the
database does not let anyone call the API. Keys are 190 random bits, so a plain hash is enough
(a slow password hash protects guessable secrets, which these are not).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from socialcredit.i18n import Message
from socialcredit.store.policies import latest_policies
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import api_keys, identifiers
from socialcredit.store.sources import get_source
from socialcredit.timeutil import now

ROLES = ("admin", "operator", "source", "relying_party", "subject", "auditor", "reviewer")
PUBLIC_ROLE = "public"
_PREFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud without doubt
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's role and grants, or the anonymous public."""

    name: str  # "key:<prefix>", "anonymous", or "cli:<user>"
    role: str
    subject_id: int | None = None
    source_id: str | None = None
    measures: frozenset[str] | None = None
    identifiers: frozenset[str] = frozenset()  # the subject's own identifiers (role subject)
    rate: str | None = None  # the key's quota ("10/second"); None: none of its own


PUBLIC = Principal("anonymous", PUBLIC_ROLE)


@dataclass(frozen=True)
class KeyInfo:
    prefix: str
    role: str
    label: str
    subject: str | None
    source: str | None
    measures: tuple[str, ...] | None
    created_at: datetime
    revoked_at: datetime | None
    rate: str | None = None


_UNITS = {
    "s": "second",
    "sec": "second",
    "second": "second",
    "m": "minute",
    "min": "minute",
    "minute": "minute",
    "h": "hour",
    "hour": "hour",
    "d": "day",
    "day": "day",
}
_RATE = re.compile(r"^\s*([0-9]{1,9})\s*/\s*([a-z]+?)s?\s*$")


def parse_rate(text: str, field: str = "rate") -> str:
    """A quota as `N/s`, `N/min`, `N/h` or `N/day` (or spelled out, `N/second`), in its one
    stored form, e.g. "10/second"."""
    found = _RATE.match(text.lower())
    unit = _UNITS.get(found.group(2)) if found else None
    if found is None or unit is None:
        raise InvalidInput(field, f"{text!r} is not a rate: write N/s, N/min, N/h or N/day")
    amount = int(found.group(1))
    if amount < 1:
        raise InvalidInput(field, f"{text!r}: the rate must allow at least one request")
    return f"{amount}/{unit}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(
    conn: sa.Connection,
    role: str,
    subject: str | None = None,
    source: str | None = None,
    measures: list[str] | None = None,
    label: str = "",
    rate: str | None = None,
) -> tuple[str, KeyInfo]:
    """Mint a key; returns the key itself (shown once, never stored) and what is stored.
    `rate` is the key's quota (`N/s`, ...); without it the key has none of its own."""
    quota = parse_rate(rate) if rate is not None else None
    if role not in ROLES:
        raise InvalidInput("role", f"{role!r} is not one of {', '.join(ROLES)}")
    needs = {"subject": "subject", "source": "source", "relying_party": "measure"}
    given = {"subject": subject, "source": source, "measure": measures or None}
    for option, value in given.items():
        if value and needs.get(role) != option:
            raise InvalidInput(option, f"--{option} does not apply to a key of role {role}")
    if role in needs and not given[needs[role]]:
        raise InvalidInput(needs[role], f"a {role} key needs --{needs[role]}")
    subject_id = find_subject(conn, subject).id if subject else None
    if source:
        get_source(conn, source)
    if measures:
        declared = {m.name for p in latest_policies(conn) for m in p.policy.measures}
        unknown = sorted(set(measures) - declared)
        if unknown:
            raise NotFound(
                f"no policy in force declares measure {', '.join(map(repr, unknown))} "
                f"(declared: {', '.join(sorted(declared)) or 'none'})"
            )
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    key = f"scs_{prefix}_{secrets.token_urlsafe(24)}"
    created = now()
    conn.execute(
        api_keys.insert().values(
            prefix=prefix,
            secret_hash=digest(key),
            role=role,
            subject_id=subject_id,
            source_id=source,
            measures=sorted(set(measures)) if measures else None,
            label=label,
            created_at=created,
            rate=quota,
        )
    )
    return key, _info(_row(conn, prefix), conn)


def list_keys(conn: sa.Connection) -> list[KeyInfo]:
    rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.id))
    return [_info(r, conn) for r in rows]


def revoke_key(conn: sa.Connection, prefix: str) -> KeyInfo:
    row = _row(conn, prefix)
    if row.revoked_at is not None:
        raise Conflict(f"key {prefix} was already revoked")
    conn.execute(sa.update(api_keys).where(api_keys.c.id == row.id).values(revoked_at=now()))
    return _info(_row(conn, prefix), conn)


def authenticate(conn: sa.Connection, key: str) -> Principal:
    """The principal a key stands for; Unauthenticated if it is malformed, unknown or revoked."""
    parts = key.split("_", 2)  # the secret itself may contain "_"
    prefix = parts[1] if len(parts) == 3 and parts[0] == "scs" else ""
    row = (
        conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)).first()
        if prefix
        else None
    )
    stored = row.secret_hash if row is not None else _DUMMY_HASH
    matches = hmac.compare_digest(stored, digest(key))  # the same work whether found or not
    if row is None or not matches:
        raise Unauthenticated(Message("the API key is not valid"))
    if row.revoked_at is not None:
        raise Unauthenticated(Message("the API key {prefix} was revoked", prefix=prefix))
    return principal_of(conn, row)


def principal_of(conn: sa.Connection, row: Any) -> Principal:
    """The principal of a stored key (a row of `api_keys`) that has been checked."""
    own: frozenset[str] = frozenset()
    if row.subject_id is not None:
        own = frozenset(
            conn.execute(
                sa.select(identifiers.c.identifier).where(
                    identifiers.c.subject_id == row.subject_id
                )
            ).scalars()
        )
    return Principal(
        name=f"key:{row.prefix}",
        role=row.role,
        subject_id=row.subject_id,
        source_id=row.source_id,
        measures=frozenset(row.measures) if row.measures is not None else None,
        identifiers=own,
        rate=row.rate,
    )


class KeyCache:
    """`authenticate` with a short memory, for the hot paths of the service.

    A revoked key stops working within `ttl` seconds, also when another process (`scs keys
    revoke`) revoked it. Failures are not cached: a wrong key always costs a lookup.
    """

    def __init__(self, engine: sa.Engine, ttl: float = 2.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._known: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def resolve(self, key: str) -> Principal:
        hashed = digest(key)
        hit = self._known.get(hashed)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        with self.engine.connect() as conn:
            principal = authenticate(conn, key)
        with self._lock:
            self._known[hashed] = (principal, time.monotonic() + self.ttl)
        return principal


def _row(conn: sa.Connection, prefix: str) -> Any:
    row = conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)).first()
    if row is None:
        raise NotFound(f"no key with prefix {prefix!r} (see `scs keys list`)")
    return row


def _info(row: Any, conn: sa.Connection) -> KeyInfo:
    subject = None
    if row.subject_id is not None:
        subject = conn.execute(
            sa.select(identifiers.c.identifier).where(
                identifiers.c.subject_id == row.subject_id, identifiers.c.ordinal == 0
            )
        ).scalar_one()
    return KeyInfo(
        prefix=row.prefix,
        role=row.role,
        label=row.label,
        subject=subject,
        source=row.source_id,
        measures=tuple(row.measures) if row.measures is not None else None,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        rate=row.rate,
    )
