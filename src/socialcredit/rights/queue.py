"""The operator work queue: every open case (objection, appeal, repair application), by due
date. Each kind of case adds its rows here; the `/queue` page shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.i18n import Message
from socialcredit.rights import appeals, repair
from socialcredit.store.registry import first_identifiers
from socialcredit.store.schema import objections, records


@dataclass(frozen=True)
class Case:
    kind: str  # objection | appeal | repair
    id: int
    subject: str | None  # the subject's first identifier
    about: str  # what the case is about: a record, a measure, a list (a `Message`: `localize`)
    filed_at: datetime
    due_at: datetime
    overdue: bool  # open at or past its deadline as of `at`
    href: str  # the case's timeline page


def open_cases(conn: sa.Connection, at: datetime) -> list[Case]:
    """Every open case, soonest due first (ties by kind and id)."""
    cases = _objections(conn, at)
    for rows in (appeals.queue_rows(conn, at), repair.queue_rows(conn, at)):
        cases += [
            Case(
                kind=r["kind"],
                id=r["id"],
                subject=r["subject"],
                about=r["what"],
                filed_at=r["filed_at"],
                due_at=r["due_at"],
                overdue=r["overdue"],
                href=r["url"],
            )
            for r in rows
        ]
    return sorted(cases, key=lambda c: (c.due_at, c.kind, c.id))


def _objections(conn: sa.Connection, at: datetime) -> list[Case]:
    rows = list(
        conn.execute(
            sa.select(
                objections.c.id,
                objections.c.subject_id,
                objections.c.source_id,
                objections.c.filed_at,
                objections.c.due_at,
                records.c.record_id,
                records.c.type,
            )
            .join(records, records.c.id == objections.c.record_pk)
            .where(objections.c.resolution.is_(None))
        )
    )
    names = first_identifiers(conn, {r.subject_id for r in rows})
    return [
        Case(
            kind="objection",
            id=r.id,
            subject=names.get(r.subject_id),
            about=Message("record {record} ({type})", record=_key(r), type=r.type),
            filed_at=r.filed_at,
            due_at=r.due_at,
            overdue=r.due_at <= at,
            href=f"/objections/{r.id}",
        )
        for r in rows
    ]


def _key(row: Any) -> str:
    """A record's key as staff read it: `source/record id`."""
    return f"{row.source_id}/{row.record_id}"
