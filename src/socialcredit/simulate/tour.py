"""The demo's due-process tour: the tour's person contests a record, the source answers, the
person appeals their flight ban, and the notices tell them what happened.

It goes through the same services as `scs objections`, `scs appeals` and `scs notices` (and the
portal), and is idempotent: a second demo on the same store shows the cases the first one opened
rather than filing them again, so the demo's outcomes stay the same run after run (the objection
is answered `verified`, so the record counts as before; the appeal waits for a reviewer, and an
open appeal changes no outcome).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from socialcredit.audit.log import Entry, append_entries
from socialcredit.policy.patterns import matches
from socialcredit.policy.schema import Policy
from socialcredit.rights import appeals, objections
from socialcredit.rights.notices import list_notices
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import writing
from socialcredit.store.policies import latest_policies
from socialcredit.store.registry import Subject, find_subject, first_identifiers
from socialcredit.store.schema import objections as objection_rows
from socialcredit.store.schema import records
from socialcredit.timeutil import now

ACTOR = "demo:tour"
OPERATOR = Principal(ACTOR, "operator")
MEASURE, POLICY = "flight_ban", "national"


@dataclass(frozen=True)
class Tour:
    subject: str  # the person's first identifier
    objection: dict[str, Any]  # the objection as `scs objections show --format json` prints it
    appeal: appeals.Appeal | None  # None when the policy no longer applies the measure
    notices: list[dict[str, Any]]  # the person's notices, newest first


def due_process_tour(engine: sa.Engine, subject_id: int) -> Tour | None:
    """Walk the tour's person through due process; None when nothing fits (no record to
    contest)."""
    with engine.connect() as conn:
        subject = find_subject(conn, first_identifiers(conn, [subject_id])[subject_id])
        policies = {p.name: p.policy for p in latest_policies(conn)}
        record = _contestable(conn, subject_id, policies)
        if record is None:
            return None
        earlier = conn.execute(
            sa.select(objection_rows.c.id)
            .where(objection_rows.c.record_pk == record.id)
            .order_by(objection_rows.c.id)
        ).scalar()
    if earlier is None:
        ref = objections.RecordRef(record.source_id, record.record_id)
        filed = objections.file(
            engine,
            OPERATOR,
            ACTOR,
            ref,
            subject_id,
            "This record is wrong: I was not there that day, and I can show where I was.",
        )
        earlier = filed["id"]
        _log(engine, "objection.file", f"objection {earlier}: {ref.source}/{ref.record_id}")
        objections.answer(
            engine,
            OPERATOR,
            f"source:{record.source_id}",
            earlier,
            "verified",
            note="We checked the record against our own files; it stands as sent.",
        )
        _log(engine, "objection.answer", f"objection {earlier}: verified")
    appeal = _appeal(engine, subject)
    with engine.connect() as conn:
        shown = objections.get_objection(conn, earlier)
        told = list_notices(conn, subject, 10, 0)["notices"]
    return Tour(subject.identifier, shown, appeal, told)


def _contestable(conn: sa.Connection, subject_id: int, policies: dict[str, Policy]) -> Any:
    """The person's latest record that lowers a score and puts them on no list (so the tour's
    flight ban, which comes from a list, stays as the rest of the tour shows it)."""
    lowering = [
        r.type
        for p in policies.values()
        for r in p.rules
        if (r.points or 0) < 0 or (r.per_unit or 0) < 0
    ]
    entering = [t for p in policies.values() for lst in p.lists for t in lst.enter]
    rows = conn.execute(
        sa.select(records.c.id, records.c.source_id, records.c.record_id, records.c.type)
        .where(records.c.subject_id == subject_id)
        .order_by(records.c.occurred_at.desc(), records.c.id.desc())
    )
    for row in rows:
        if any(matches(p, row.type) for p in lowering) and not any(
            matches(p, row.type) for p in entering
        ):
            return row
    return None


def _appeal(engine: sa.Engine, subject: Subject) -> appeals.Appeal | None:
    with engine.connect() as conn:
        found = [
            a
            for a in appeals.list_appeals(conn, now(), subject_id=subject.id)
            if a.measure == MEASURE
        ]
    if found:
        return found[-1]
    with writing(engine) as conn:
        appeal = appeals.file_appeal(
            conn,
            subject,
            POLICY,
            MEASURE,
            "I have paid the judgment in full; the court's receipt is attached to my file.",
            ACTOR,
        )
    _log(engine, "appeal.file", f"appeal {appeal.id}: {MEASURE} {subject.identifier}")
    return appeal


def _log(engine: sa.Engine, action: str, target: str) -> None:
    """Every change the tour makes is in the audit log, like the CLI's and the API's."""
    append_entries(engine, [Entry.now(ACTOR, "operator", action, target, "demo tour")])
