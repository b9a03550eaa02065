"""Registered sources: who may submit records, of which types, with what reliability."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from socialcredit.errors import Conflict, InvalidInput, NotFound
from socialcredit.policy.patterns import any_match, check_pattern
from socialcredit.store.schema import sources
from socialcredit.timeutil import now, parse_duration_days

_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    kind: str
    reliability: float
    types: tuple[str, ...] | None  # None: any type
    retention_days: int | None = None  # the longest a negative record of it may be kept

    def may_submit(self, record_type: str) -> bool:
        return self.types is None or any_match(self.types, record_type)


def _source(row: Any) -> Source:
    return Source(
        row.id,
        row.name,
        row.kind,
        row.reliability,
        tuple(row.types) if row.types is not None else None,
        row.retention_days,
    )


def add_source(
    conn: sa.Connection,
    source_id: str,
    kind: str,
    name: str | None = None,
    reliability: float = 1.0,
    types: list[str] | None = None,
    retention: str | None = None,
) -> tuple[Source, bool]:
    """Register a source; returns (source, created). Re-adding the same source is a no-op."""
    if not re.match(_ID, source_id):
        raise InvalidInput("id", f"{source_id!r} must be 1-64 lower-case letters, digits, . _ -")
    if not kind or not kind.strip():
        raise InvalidInput("kind", "is required (e.g. court, bank, tax)")
    if not 0 < reliability <= 1:
        raise InvalidInput("reliability", f"{reliability} is not in (0, 1]")
    if types is not None:
        types = [t.strip() for t in types if t.strip()]
        if not types:
            raise InvalidInput("types", "is empty; omit it to allow any type")
        for pattern in types:
            reason = check_pattern(pattern)
            if reason:
                raise InvalidInput("types", reason)
    retention_days = None
    if retention is not None:
        try:
            retention_days = parse_duration_days(retention)
        except ValueError as error:
            raise InvalidInput("retention", str(error)) from None
    wanted = Source(
        source_id,
        name or source_id,
        kind.strip(),
        float(reliability),
        tuple(types) if types is not None else None,
        retention_days,
    )
    existing = find_source(conn, source_id)
    if existing is not None:
        if existing != wanted:
            differs = [
                f
                for f in ("name", "kind", "reliability", "types", "retention_days")
                if getattr(existing, f) != getattr(wanted, f)
            ]
            raise Conflict(
                f"source {source_id!r} is already registered with a different "
                f"{', '.join(differs)}; sources are immutable, register a new id"
            )
        return existing, False
    conn.execute(
        sources.insert().values(
            id=wanted.id,
            name=wanted.name,
            kind=wanted.kind,
            reliability=wanted.reliability,
            types=list(wanted.types) if wanted.types is not None else None,
            added_at=now(),
            retention_days=wanted.retention_days,
        )
    )
    return wanted, True


def find_source(conn: sa.Connection, source_id: str) -> Source | None:
    row = conn.execute(sa.select(sources).where(sources.c.id == source_id)).first()
    return _source(row) if row else None


def get_source(conn: sa.Connection, source_id: str) -> Source:
    found = find_source(conn, source_id)
    if found is None:
        known = ", ".join(s.id for s in list_sources(conn)) or "none"
        raise NotFound(
            f"unknown source {source_id!r} (registered: {known}); add it with `scs sources add`"
        )
    return found


def list_sources(conn: sa.Connection) -> list[Source]:
    return [_source(r) for r in conn.execute(sa.select(sources).order_by(sources.c.id))]
