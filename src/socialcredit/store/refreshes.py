"""Reading and writing the `refreshes` table: one row per refresh of a current evaluation
(`outcomes.refresh.catch_up` writes them; the dashboard's live view reads them).

One catch-up refreshes every current evaluation over the same stretch of the log, so the same
new records appear in one row per policy. The rate counts each stretch once: by the log position
it ends at (all rows of one catch-up end at the same position).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialcredit.errors import InvalidInput
from socialcredit.store.positions import LogPosition
from socialcredit.store.schema import refreshes


@dataclass(frozen=True)
class Refresh:
    id: int
    evaluation_id: int
    at: datetime  # the as_of and known_at of the refreshed rows
    records: int  # new records in the stretch of the log
    subjects: int  # subjects whose rows were rewritten
    changes: int  # decisions applied or lifted
    seconds: float
    position: LogPosition  # where the log stood after it


@dataclass(frozen=True)
class RefreshTotals:
    """The refreshes of one evaluation since it was stored by a full run."""

    refreshes: int
    records: int
    subjects: int  # rows rewritten, summed over the refreshes (a subject may count twice)
    changes: int


def add_refresh(
    conn: sa.Connection,
    evaluation_id: int,
    at: datetime,
    records: int,
    subjects: int,
    changes: int,
    seconds: float,
    position: LogPosition,
    decided: list[int] | None = None,
) -> int:
    """Store one refresh (in the caller's transaction); returns its id. `decided`: the
    subjects whose decisions it changed (what the gate index reloads)."""
    for field, value in (("records", records), ("subjects", subjects), ("changes", changes)):
        if value < 0:
            raise InvalidInput(field, f"{value} is negative")
    if seconds < 0:
        raise InvalidInput("seconds", f"{seconds} is negative")
    found = conn.execute(
        refreshes.insert()
        .values(
            evaluation_id=evaluation_id,
            at=at,
            records=records,
            subjects=subjects,
            changes=changes,
            seconds=seconds,
            position=position.as_json(),
            decided=decided,
        )
        .returning(refreshes.c.id)
    ).scalar_one()
    return int(found)


def _refresh(row: Any) -> Refresh:
    return Refresh(
        int(row.id),
        int(row.evaluation_id),
        row.at,
        int(row.records),
        int(row.subjects),
        int(row.changes),
        float(row.seconds),
        LogPosition.from_json(row.position),
    )


def latest_refresh(conn: sa.Connection) -> Refresh | None:
    """The newest refresh of any evaluation, or None when there was none."""
    row = conn.execute(sa.select(refreshes).order_by(refreshes.c.id.desc()).limit(1)).first()
    return _refresh(row) if row is not None else None


def recent_rate(conn: sa.Connection, now: datetime, seconds: float) -> float:
    """Records per second that refreshes brought in over the `seconds` up to `now`: each
    stretch of the log counted once (the rows of one catch-up share the position it ended at;
    of those, the largest count, which covers the others' stretches)."""
    if not 0 < seconds <= 3600:
        raise InvalidInput("seconds", f"{seconds} is not between 0 and 3600")
    since = now - timedelta(seconds=seconds)
    rows = conn.execute(
        sa.select(refreshes.c.records, refreshes.c.position).where(
            refreshes.c.at > since, refreshes.c.at <= now
        )
    )
    by_end: dict[LogPosition, int] = {}
    for records, position in rows:
        end = LogPosition.from_json(position)
        by_end[end] = max(by_end.get(end, 0), int(records))
    return sum(by_end.values()) / seconds


def refresh_totals(conn: sa.Connection, evaluation_ids: list[int]) -> dict[int, RefreshTotals]:
    """For each evaluation, its refreshes so far (an evaluation without any is left out)."""
    if not evaluation_ids:
        return {}
    rows = conn.execute(
        sa.select(
            refreshes.c.evaluation_id,
            sa.func.count(),
            sa.func.sum(refreshes.c.records),
            sa.func.sum(refreshes.c.subjects),
            sa.func.sum(refreshes.c.changes),
        )
        .where(refreshes.c.evaluation_id.in_(evaluation_ids))
        .group_by(refreshes.c.evaluation_id)
    )
    return {
        int(e): RefreshTotals(int(n), int(r or 0), int(s or 0), int(c or 0))
        for e, n, r, s, c in rows
    }
