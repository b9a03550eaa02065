"""Positions in the log: how far an outcome has read it.

Every table an evaluation reads grows by appending rows with increasing ids, each written under
the log lock (`store.db.writing`), so ids commit in order: "every row up to id n" is a precise,
clock-free place in the log. A frozen clock (`SCS_NOW`) stamps every write with one instant, so
instants could not tell what an outcome has seen; ids can.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import sqlalchemy as sa

from socialcredit.store.schema import overrides, record_status, records, relationships, subjects


@dataclass(frozen=True, order=True)
class LogPosition:
    """The newest id of each log table that an outcome reflects (0: none)."""

    records: int = 0
    status: int = 0
    overrides: int = 0
    relationships: int = 0
    subjects: int = 0

    def as_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> LogPosition:
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in document.items() if k in names})

    def behind(self, other: LogPosition) -> bool:
        """True when `other` holds a row this position has not seen."""
        return any(getattr(other, f.name) > getattr(self, f.name) for f in fields(self))


TABLES = {
    "records": records,
    "status": record_status,
    "overrides": overrides,
    "relationships": relationships,
    "subjects": subjects,
}


def log_position(conn: sa.Connection) -> LogPosition:
    """Where the log ends, as `conn` sees it (inside a snapshot: where the snapshot ends)."""
    newest = (sa.select(sa.func.max(t.c.id)).scalar_subquery() for t in TABLES.values())
    row = (
        conn.execute(sa.select(*(n.label(name) for n, name in zip(newest, TABLES, strict=True))))
        .one()
        ._mapping
    )
    return LogPosition(**{name: int(row[name] or 0) for name in TABLES})
