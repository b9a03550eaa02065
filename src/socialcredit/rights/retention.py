"""Retention: a negative record is kept at most as long as a policy in force allows.

A policy may declare `retention: {negative: 5y}` (the national pack does: the Credit Reporting
Industry Regulation keeps negative information five years from the end of the conduct), and a
source `scs sources add --retention 5y` for the negative records it sent. A
record is negative under a policy when the rule that matches its type (the most specific one)
has negative `points` or `per_unit`, or its type enters one of the policy's black lists. When
several policies hold a type negative, the shortest limit wins.

The limit runs from `occurred_at`. On the day after the limit the sweep purges the record: its
`value` and `attrs` are cleared (the only update ever made to `records`) and a `purged` row in
the status log is its tombstone, saying under which policy and when. A purged record never
counts again. Purging is final: a replay (`known_at`) from before the purge sees the tombstone's
record without its value, which is the point of deleting it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialcredit.audit.log import Entry, append
from socialcredit.policy.patterns import any_match, most_specific
from socialcredit.policy.schema import Policy
from socialcredit.store.policies import latest_policies
from socialcredit.store.schema import record_status, records
from socialcredit.store.sources import list_sources

PURGED = "purged"
ACTOR = "system:sweep"
# The limit is kept in full: a record whose limit ends during a day is purged from the start of
# the next day on, never on the day itself ("deleted after five years", not "at").
GRACE = timedelta(days=1)
_CHUNK = 2_000


@dataclass(frozen=True)
class Limit:
    days: int
    by: str  # "policy national", "source court"


def negative_types(policies: Iterable[Policy], types: Iterable[str]) -> dict[str, list[Policy]]:
    """Record type -> the policies that hold it negative (only the negative types)."""
    out: dict[str, list[Policy]] = {}
    for policy in policies:
        patterns = [rule.type for rule in policy.rules]
        black = [p for d in policy.lists if d.kind == "black" for p in d.enter]
        for record_type in types:
            best = most_specific(patterns, record_type)
            rule = policy.rules[patterns.index(best)] if best is not None else None
            if (rule is not None and (rule.points < 0 or rule.per_unit < 0)) or any_match(
                black, record_type
            ):
                out.setdefault(record_type, []).append(policy)
    return out


def negative_limits(policies: Iterable[Policy], types: Iterable[str]) -> dict[str, Limit]:
    """Record type -> the shortest retention among the policies that hold it negative."""
    out: dict[str, Limit] = {}
    for record_type, holding in negative_types(policies, types).items():
        limits = [Limit(p.retention.negative, f"policy {p.name}") for p in holding if p.retention]
        if limits:
            out[record_type] = min(limits, key=lambda limit: (limit.days, limit.by))
    return out


def purge_expired(conn: sa.Connection, at: datetime) -> int:
    """The sweep step: purge every negative record past its retention limit as of `at`, in the
    caller's transaction (which holds the log and audit locks). Returns how many.

    A record's limit is the shortest of its type's policy limit and its source's `retention`;
    a source's limit applies only to records that some policy in force holds negative."""
    policies = [stored.policy for stored in latest_policies(conn)]
    types = list(conn.execute(sa.select(records.c.type).distinct()).scalars())
    negative = negative_types(policies, types)
    by_policy = negative_limits(policies, types)
    by_source = {
        s.id: Limit(s.retention_days, f"source {s.id}")
        for s in list_sources(conn)
        if s.retention_days is not None
    }
    purged = 0
    for record_type in sorted(negative):
        candidates = [by_policy[record_type]] if record_type in by_policy else []
        candidates += by_source.values()
        if not candidates:
            continue
        longest_wait = min(limit.days for limit in candidates)
        query = (
            sa.select(records.c.id, records.c.source_id, records.c.record_id, records.c.occurred_at)
            .where(
                records.c.type == record_type,
                records.c.occurred_at <= at - timedelta(days=longest_wait) - GRACE,
                # purged is final: a sweep never reads again what an earlier one purged
                ~sa.exists().where(
                    record_status.c.record_pk == records.c.id, record_status.c.status == PURGED
                ),
            )
            .order_by(records.c.id)
        )
        found = list(conn.execute(query))
        due: dict[Limit, list[Any]] = {}
        for r in found:
            mine = [by_policy[record_type]] if record_type in by_policy else []
            if r.source_id in by_source:
                mine.append(by_source[r.source_id])
            if not mine:
                continue
            limit = min(mine, key=lambda limit: (limit.days, limit.by))
            if r.occurred_at <= at - timedelta(days=limit.days) - GRACE:
                due.setdefault(limit, []).append(r)
        for limit, rows in sorted(due.items(), key=lambda item: item[0].by):
            for start in range(0, len(rows), _CHUNK):
                purged += _purge(conn, rows[start : start + _CHUNK], limit, at)
    return purged


def _purge(conn: sa.Connection, rows: list[Any], limit: Limit, at: datetime) -> int:
    if not rows:
        return 0
    pks = [r.id for r in rows]
    conn.execute(records.update().where(records.c.id.in_(pks)).values(value=None, attrs=None))
    reason = f"retention: negative records are kept {limit.days} days ({limit.by})"
    conn.execute(
        record_status.insert(),
        [
            {"record_pk": pk, "status": PURGED, "changed_at": at, "reason": reason, "actor": ACTOR}
            for pk in pks
        ],
    )
    append(
        conn,
        [
            Entry.now(ACTOR, "system", "record.purge", f"{r.source_id}/{r.record_id}", reason)
            for r in rows
        ],
    )
    return len(rows)
