"""Why a subject is on a list: the entry records that put it there.

A subject is on list L at T when it has counting entry records e (type in L.enter, occurred
by T, received by K) with T < e.occurred_at + L.duration and no exit record between e and T;
`since` is the earliest such e (engine/lists.py). Given `since`, those records are exactly the
subject's counting entry records with since <= occurred_at <= T (a later entry is after every
exit that precedes `since`, and lapses later), so they are read back from the store here at the
evaluation's as_of and known_at, for one subject's report or a page of a public list alike.
Records that live only in the record lake are not in the store; their entries have no cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from socialcredit.engine.views import counting_statuses
from socialcredit.policy.patterns import any_match
from socialcredit.policy.schema import Policy
from socialcredit.store.schema import record_status, records, sources


@dataclass(frozen=True)
class Cause:
    source: str
    source_name: str
    record_id: str
    type: str
    occurred_at: datetime


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_causes(
    conn: sa.Connection,
    policy: Policy,
    list_name: str,
    since: Mapping[int, datetime],
    as_of: datetime,
    known_at: datetime,
) -> dict[int, list[Cause]]:
    """The entry records behind each listed subject's entry (subject id -> its `since`), by
    date; a subject whose records are not in the store maps to []."""
    listed = next((li for li in policy.lists if li.name == list_name), None)
    out: dict[int, list[Cause]] = {sid: [] for sid in since}
    if listed is None or not since:
        return out
    by_type = [
        records.c.type.like(p[:-1] + "%") if p.endswith(".*") else records.c.type == p
        for p in listed.enter
    ]
    ids = sorted(since)
    rows = list(
        conn.execute(
            sa.select(
                records.c.id,
                records.c.subject_id,
                records.c.source_id,
                sources.c.name.label("source_name"),
                records.c.record_id,
                records.c.type,
                records.c.occurred_at,
            )
            .join(sources, sources.c.id == records.c.source_id)
            .where(
                records.c.subject_id.in_(ids),
                sa.or_(*by_type),
                records.c.occurred_at >= min(since.values()),
                records.c.occurred_at <= as_of,
                records.c.received_at <= known_at,
            )
            .order_by(records.c.occurred_at, records.c.id)
        )
    )
    status: dict[int, str] = {}
    if rows:
        changes = conn.execute(
            sa.select(record_status.c.record_pk, record_status.c.status)
            .where(
                record_status.c.record_pk.in_([r.id for r in rows]),
                record_status.c.changed_at <= known_at,
            )
            .order_by(record_status.c.id)
        )
        status = {c.record_pk: c.status for c in changes}
    counting = counting_statuses(policy)
    for r in rows:
        if not any_match(listed.enter, r.type) or status.get(r.id, "active") not in counting:
            continue
        if _aware(r.occurred_at) < _aware(since[r.subject_id]):
            continue
        out[r.subject_id].append(
            Cause(r.source_id, r.source_name, r.record_id, r.type, _aware(r.occurred_at))
        )
    return out
