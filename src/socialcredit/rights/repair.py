"""Credit repair: a listed subject applies to leave a list early, a reviewer decides.

A list declares its terms (`repair: {min_time, proof, exit}` in the policy): the subject must
have been on the list (in the policy's current evaluation) for at least `min_time`, and hold an
active record of a `proof` type dated after its entry. A reviewer approves or refuses, with
reasons; approval writes the `exit` record the list names, through `ingest.accept_records` as
the built-in source `rights`, so the next evaluation takes the subject off the list the way any
exit does, and a replay known before the approval still lists it. Applications are never
decided by the system: one unanswered by its deadline is counted as overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialcredit.errors import Conflict, InvalidInput, NotFound
from socialcredit.i18n import Message
from socialcredit.ingest.accept import accept_records
from socialcredit.policy.patterns import any_match
from socialcredit.policy.schema import ListDef
from socialcredit.rights.cases import Event, required_text
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.policies import get_policy
from socialcredit.store.records import current_status
from socialcredit.store.registry import Subject, first_identifiers
from socialcredit.store.schema import outcome_lists, records, repair_applications
from socialcredit.store.sources import Source, add_source, find_source
from socialcredit.timeutil import format_instant, now

# As for appeals (rights.appeals.DECISION_DAYS): one month, the time GDPR Art. 12(3) allows a
# controller to act on a request; overdue applications are reported, never decided by the system.
DECISION_DAYS = 30
SOURCE = "rights"  # the built-in source of the exit records that approvals write


@dataclass(frozen=True)
class Application:
    id: int
    subject_id: int
    policy: str
    list_name: str
    listed_since: datetime
    proof_record_pk: int
    filed_at: datetime
    filed_by: str
    due_at: datetime
    status: str  # open | approved | refused
    decided_at: datetime | None
    decided_by: str | None
    note: str | None
    exit_record_pk: int | None

    def overdue(self, at: datetime) -> bool:
        return self.status == "open" and self.due_at <= at

    def timeline(self) -> list[Event]:
        events = [
            Event(self.listed_since, Message("entered the list {list}", list=self.list_name)),
            Event(self.filed_at, Message("applied for credit repair")),
        ]
        if self.decided_at is None:
            events.append(Event(self.due_at, Message("a reviewer's decision is due"), done=False))
        elif self.status == "approved":
            events.append(
                Event(self.decided_at, Message("approved: an exit record takes you off the list"))
            )
        else:
            events.append(Event(self.decided_at, Message("refused by a reviewer")))
        return events


def _application(row: Any) -> Application:
    return Application(
        id=int(row.id),
        subject_id=int(row.subject_id),
        policy=row.policy_name,
        list_name=row.list_name,
        listed_since=row.listed_since,
        proof_record_pk=int(row.proof_record_pk),
        filed_at=row.filed_at,
        filed_by=row.filed_by,
        due_at=row.due_at,
        status=row.status,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        note=row.note,
        exit_record_pk=None if row.exit_record_pk is None else int(row.exit_record_pk),
    )


def get_application(conn: sa.Connection, application_id: int) -> Application:
    row = conn.execute(
        sa.select(repair_applications).where(repair_applications.c.id == application_id)
    ).first()
    if row is None:
        raise NotFound(Message("no repair application {application}", application=application_id))
    return _application(row)


def list_applications(
    conn: sa.Connection,
    at: datetime,
    state: str | None = None,
    subject_id: int | None = None,
) -> list[Application]:
    """Applications by due date (state: None for all, "open", or "overdue" as of `at`)."""
    t = repair_applications
    if state not in (None, "open", "overdue"):
        raise InvalidInput("state", Message("{state} is not open or overdue", state=repr(state)))
    query = sa.select(t).order_by(t.c.due_at, t.c.id)
    if state is not None:
        query = query.where(t.c.status == "open")
    if state == "overdue":
        query = query.where(t.c.due_at <= at)
    if subject_id is not None:
        query = query.where(t.c.subject_id == subject_id)
    return [_application(r) for r in conn.execute(query)]


def repair_terms(conn: sa.Connection, policy: str, list_name: str) -> tuple[str, ListDef]:
    """The policy in force's name and its list `list_name`, which must declare repair terms."""
    stored = get_policy(conn, policy)
    found = next((x for x in stored.policy.lists if x.name == list_name), None)
    if found is None:
        names = ", ".join(x.name for x in stored.policy.lists) or "none"
        raise NotFound(
            Message(
                "policy {policy} has no list {list} (lists: {names})",
                policy=stored.name,
                list=repr(list_name),
                names=names,
            )
        )
    if found.repair is None:
        raise Conflict(
            Message(
                "list {list} of policy {policy} declares no credit repair terms; a subject "
                "leaves it only by its exit records or when its duration ends",
                list=list_name,
                policy=stored.name,
            )
        )
    return stored.name, found


def apply_for_repair(
    conn: sa.Connection, subject: Subject, policy: str, list_name: str, actor: str
) -> Application:
    """File `subject`'s application to leave `list_name` of `policy`. Raises NotFound for an
    unknown policy or list, Conflict when the terms are not met (not listed, listed for less
    than min_time, no proof dated after the entry) or an application is already open."""
    name, terms = repair_terms(conn, policy, list_name)
    assert terms.repair is not None
    evaluation = latest_evaluation(conn, name)
    since = conn.execute(
        sa.select(outcome_lists.c.since).where(
            outcome_lists.c.evaluation_id == evaluation.id,
            outcome_lists.c.list_name == list_name,
            outcome_lists.c.subject_id == subject.id,
        )
    ).scalar()
    if since is None:
        raise Conflict(
            Message(
                "{subject} is not on the list {list} in the current evaluation of {policy} "
                "(as of {as_of}); there is nothing to repair",
                subject=subject.identifier,
                list=list_name,
                policy=name,
                as_of=format_instant(evaluation.as_of),
            )
        )
    filed = now()
    eligible = since + timedelta(days=terms.repair.min_time)
    if filed < eligible:
        raise Conflict(
            Message(
                "the list {list} allows credit repair after {days} days on it; {subject} is "
                "listed since {since} and may apply from {eligible}",
                list=list_name,
                days=terms.repair.min_time,
                subject=subject.identifier,
                since=format_instant(since),
                eligible=format_instant(eligible),
            )
        )
    proof = _proof(conn, subject, terms, since)
    if proof is None:
        raise Conflict(
            Message(
                "credit repair of {list} needs an active record of type {types} dated after "
                "the entry on {since}; none is stored for {subject}",
                list=list_name,
                types=" or ".join(terms.repair.proof),
                since=format_instant(since),
                subject=subject.identifier,
            )
        )
    t = repair_applications
    open_one = conn.execute(
        sa.select(t.c.id).where(
            t.c.subject_id == subject.id,
            t.c.policy_name == name,
            t.c.list_name == list_name,
            t.c.status == "open",
        )
    ).scalar()
    if open_one is not None:
        raise Conflict(
            Message(
                "repair application {application} for this list is still open",
                application=open_one,
            )
        )
    new_id = conn.execute(
        t.insert()
        .values(
            subject_id=subject.id,
            policy_name=name,
            list_name=list_name,
            listed_since=since,
            proof_record_pk=proof,
            filed_at=filed,
            filed_by=actor,
            due_at=filed + timedelta(days=DECISION_DAYS),
            status="open",
        )
        .returning(t.c.id)
    ).scalar_one()
    return get_application(conn, int(new_id))


def _proof(conn: sa.Connection, subject: Subject, terms: ListDef, since: datetime) -> int | None:
    """The newest active proof record of `subject` dated after its entry (its pk)."""
    assert terms.repair is not None
    found = conn.execute(
        sa.select(records.c.id, records.c.type)
        .where(records.c.subject_id == subject.id, records.c.occurred_at > since)
        .order_by(records.c.occurred_at.desc(), records.c.id.desc())
    ).all()
    candidates = [int(r.id) for r in found if any_match(terms.repair.proof, r.type)]
    status = current_status(conn, candidates)
    return next((pk for pk in candidates if status.get(pk, "active") == "active"), None)


def decide_repair(
    conn: sa.Connection, application_id: int, approve: bool, note: str, actor: str
) -> Application:
    """A reviewer approves (writing the list's exit record, dated now) or refuses, with reasons."""
    text = required_text("note", note)
    application = get_application(conn, application_id)
    if application.status != "open":
        raise Conflict(
            Message(
                "repair application {application} was already decided ({status}) at {at}",
                application=application_id,
                status=application.status,
                at=format_instant(application.decided_at),
            )
        )
    decided = now()
    exit_pk = None
    if approve:
        _, terms = repair_terms(conn, application.policy, application.list_name)
        assert terms.repair is not None
        exit_pk = _write_exit(conn, application, terms.repair.exit, decided)
    t = repair_applications
    changed = conn.execute(
        sa.update(t)
        .where(t.c.id == application_id, t.c.status == "open")
        .values(
            status="approved" if approve else "refused",
            decided_at=decided,
            decided_by=actor,
            note=text,
            exit_record_pk=exit_pk,
        )
    ).rowcount
    if changed != 1:
        raise Conflict(
            Message(
                "repair application {application} was decided by someone else meanwhile",
                application=application_id,
            )
        )
    return get_application(conn, application_id)


def rights_source(conn: sa.Connection) -> Source:
    """The built-in source of the records due process writes, registered on first need."""
    found = find_source(conn, SOURCE)
    if found is not None:
        return found
    created, _ = add_source(conn, SOURCE, "due-process", "Due process (socialcredit)", 1.0)
    return created


def _write_exit(
    conn: sa.Connection, application: Application, record_type: str, at: datetime
) -> int:
    source = rights_source(conn)
    if not source.may_submit(record_type):
        raise Conflict(f"source {SOURCE} may not submit {record_type}; widen its types")
    subject = first_identifiers(conn, [application.subject_id])[application.subject_id]
    record_id = f"repair-{application.id}"
    row = {
        "record_id": record_id,
        "subject": subject,
        "type": record_type,
        "occurred_at": format_instant(at),
        "attrs": {"repair_application": application.id, "list": application.list_name},
    }
    report = accept_records(conn, source, [(1, row)], at)
    if report.accepted != 1:
        problems = "; ".join(f"{r.field}: {r.reason}" for r in report.rejected) or "already stored"
        raise Conflict(f"the exit record {SOURCE}/{record_id} was not written ({problems})")
    pk = conn.execute(
        sa.select(records.c.id).where(
            records.c.source_id == SOURCE, records.c.record_id == record_id
        )
    ).scalar_one()
    return int(pk)


def resolve_overdue(conn: sa.Connection, at: datetime) -> int:
    """The sweep's step: how many repair applications are open past their deadline as of `at`.
    Counted and listed (`list_applications(state="overdue")`), never decided by the system."""
    t = repair_applications
    query = sa.select(sa.func.count()).where(t.c.status == "open", t.c.due_at <= at)
    return int(conn.execute(query).scalar_one())


def application_document(
    conn: sa.Connection, application: Application, at: datetime
) -> dict[str, Any]:
    """The application as its subject, staff and reviewers read it."""
    names = first_identifiers(conn, [application.subject_id])
    proof = conn.execute(
        sa.select(records.c.source_id, records.c.record_id, records.c.type).where(
            records.c.id == application.proof_record_pk
        )
    ).one()
    exit_record = None
    if application.exit_record_pk is not None:
        exit_record = f"{SOURCE}/repair-{application.id}"
    return {
        "id": application.id,
        "subject": names.get(application.subject_id),
        "policy": application.policy,
        "list": application.list_name,
        "listed_since": format_instant(application.listed_since),
        "proof": {"record": f"{proof.source_id}/{proof.record_id}", "type": proof.type},
        "filed_at": format_instant(application.filed_at),
        "filed_by": application.filed_by,
        "due_at": format_instant(application.due_at),
        "overdue": application.overdue(at),
        "status": application.status,
        "decided_at": format_instant(application.decided_at),
        "decided_by": application.decided_by,
        "note": application.note,
        "exit_record": exit_record,
        "timeline": [e.document() for e in application.timeline()],
    }


def queue_rows(conn: sa.Connection, at: datetime) -> list[dict[str, Any]]:
    """The open repair applications as rows of the reviewers' work queue
    (`rights.queue.open_cases`), by due date."""
    found = list_applications(conn, at, "open")
    names = first_identifiers(conn, {a.subject_id for a in found})
    return [
        {
            "kind": "repair",
            "id": a.id,
            "subject": names.get(a.subject_id),
            "filed_at": a.filed_at,
            "what": Message(
                "credit repair: leave {list} ({policy})", list=a.list_name, policy=a.policy
            ),
            "due_at": a.due_at,
            "overdue": a.overdue(at),
            "url": f"/review/repair/{a.id}",
        }
        for a in found
    ]
