"""The record log: append, look up, and change a record's status (each change is a new row)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.store.bulk import insert_columns
from socialcredit.store.schema import record_status, records
from socialcredit.store.types import UTCTimestamp

# `purged`: a retention tombstone (rights/retention.py): the record's value and attrs were
# cleared because a policy keeps negative records only so long.
STATUSES = ("active", "disputed", "retracted", "superseded", "suppressed", "purged")
COLUMNS = (
    "source_id",
    "record_id",
    "subject_id",
    "type",
    "occurred_at",
    "received_at",
    "value",
    "attrs",
    "supersedes",
)
_CHUNK = 5_000


@dataclass(frozen=True)
class StoredRecord:
    pk: int
    record_id: str
    subject_id: int
    status: str


def lookup(
    conn: sa.Connection, source_id: str, record_ids: Iterable[str]
) -> dict[str, StoredRecord]:
    """The stored records of `source_id` among `record_ids`, with their current status."""
    wanted = list(set(record_ids))
    found: dict[str, tuple[int, int]] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = sa.select(records.c.id, records.c.record_id, records.c.subject_id).where(
            records.c.source_id == source_id,
            records.c.record_id.in_(wanted[start : start + _CHUNK]),
        )
        found.update({r.record_id: (r.id, r.subject_id) for r in conn.execute(query)})
    status = current_status(conn, [pk for pk, _ in found.values()])
    return {
        rid: StoredRecord(pk, rid, subject, status.get(pk, "active"))
        for rid, (pk, subject) in found.items()
    }


def current_status(conn: sa.Connection, pks: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(pks), _CHUNK):
        query = (
            sa.select(record_status.c.record_pk, record_status.c.status)
            .where(record_status.c.record_pk.in_(pks[start : start + _CHUNK]))
            .order_by(record_status.c.id)
        )
        out.update({r.record_pk: r.status for r in conn.execute(query)})
    return out


def append(conn: sa.Connection, columns: dict[str, Sequence[Any]]) -> int:
    """Append records given column-wise (names of COLUMNS); a (source, record_id) already
    stored is skipped."""
    if set(columns) != set(COLUMNS):
        raise ValueError(f"append needs exactly the columns {COLUMNS}")
    return insert_columns(conn, records, columns, ignore_conflicts=True)


_CHANGE = sa.text(
    "INSERT INTO record_status (record_pk, status, changed_at, reason, actor) "
    "SELECT id, :status, :at, :reason, :actor FROM records "
    "WHERE source_id = :source AND record_id = :record_id"
).bindparams(sa.bindparam("at", type_=UTCTimestamp()))


def change_status(
    conn: sa.Connection,
    changes: Sequence[tuple[str, str, str, str]],
    at: datetime,
    actor: str,
) -> None:
    """Log status changes: (source_id, record_id, new status, reason) each."""
    for _, _, status, _ in changes:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
    if changes:
        conn.execute(
            _CHANGE,
            [
                {"source": s, "record_id": r, "status": st, "reason": why, "at": at, "actor": actor}
                for s, r, st, why in changes
            ],
        )
