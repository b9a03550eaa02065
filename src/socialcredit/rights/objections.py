"""Objections to records (FCRA §611; China's 2013 Credit Reporting Regulation; GDPR Art. 16, 21).

    open ──(source or operator answers by due_at)──▶ verified   record back to active
      │                                          ├─▶ corrected  record superseded by the answer
      │                                          └─▶ retracted  record retracted
      └──(nobody answers by due_at; the sweep)──────▶ suppressed record suppressed,
                                                                reason unverified_by_deadline

Filing makes the record `disputed` at once; how a disputed record counts is each policy's
`disputes.while_disputed`. The deadline is fixed when the objection is filed: the shortest
`disputes.deadline` among the policies in force (30 days when none declares one). Every
transition is a row in the record status log (which `evaluate` reads, so the outcome replays
with `known_at`); the surfaces write the audit entries, and the sweep step writes its own.

Each function takes a connection in a write transaction (`store.db.writing`) and either does
everything or raises before changing anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from socialcredit.audit.log import Entry, append
from socialcredit.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from socialcredit.i18n import N_, Message
from socialcredit.policy.schema import DEFAULT_DISPUTE_DAYS
from socialcredit.rights.notices import case_notice
from socialcredit.sharing.access import (
    may_see_case,
    require_answerer,
    require_case_reader,
    require_objector,
    require_role,
)
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import AUDIT_LOCK, writing
from socialcredit.store.policies import latest_policies
from socialcredit.store.records import change_status, current_status
from socialcredit.store.registry import first_identifiers
from socialcredit.store.schema import objections, record_status, records
from socialcredit.timeutil import format_instant, now

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024  # 5 MiB: a scanned letter or a receipt, not an archive
MAX_GROUNDS = 4000
MAX_NOTE = 2000
SUPPRESSED_REASON = "unverified_by_deadline"
SWEEP_ACTOR = "system:sweep"
ANSWERS = ("verified", "corrected", "retracted")
CaseState = Literal["all", "open", "overdue"]
_CLOSED_STATUSES = {"superseded", "retracted", "suppressed", "purged"}


@dataclass(frozen=True)
class Evidence:
    name: str
    content: bytes


@dataclass(frozen=True)
class RecordRef:
    source: str
    record_id: str


def parse_record_ref(text: str, field: str = "record") -> RecordRef:
    """`SOURCE/RECORD_ID` (the record id may itself contain slashes)."""
    source, sep, record_id = text.strip().partition("/")
    if not sep or not source or not record_id:
        raise InvalidInput(
            field, Message("{text} is not SOURCE/RECORD_ID (e.g. bank/b-1)", text=repr(text))
        )
    return RecordRef(source, record_id)


def dispute_deadline_days(conn: sa.Connection) -> int:
    """The shortest `disputes.deadline` among the policies in force that declare one."""
    declared = [
        stored.policy.disputes.deadline
        for stored in latest_policies(conn)
        if "disputes" in stored.policy.model_fields_set
    ]
    return min(declared, default=DEFAULT_DISPUTE_DAYS)


# --- filing -----------------------------------------------------------------------------------


def file_objection(
    conn: sa.Connection,
    who: Principal,
    actor: str,
    ref: RecordRef,
    subject_id: int | None,
    grounds: str,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """File an objection to one record on its subject's behalf; the record becomes disputed.

    who:        the caller; a subject key may object only to its own records, and whether
                the record exists is not told to anyone else (the same refusal either way).
    actor:      how the status log and the objection name who filed it.
    subject_id: the subject the objection is filed for (a subject key's own; an operator names
                it), checked against the record's subject.
    """
    require_objector(who)  # first: a caller who may not file learns nothing else
    grounds = grounds.strip()
    if not grounds:
        raise InvalidInput("grounds", Message("say why the record is wrong (it is empty)"))
    if len(grounds) > MAX_GROUNDS:
        raise InvalidInput(
            "grounds",
            Message(
                "is {length} characters; at most {most}", length=len(grounds), most=MAX_GROUNDS
            ),
        )
    if evidence is not None:
        check_evidence(evidence)
    if who.role == "subject":
        subject_id = who.subject_id
    if subject_id is None:
        raise InvalidInput("subject", Message("name the subject the objection is filed for"))
    row = _record(conn, ref)
    record = f"{ref.source}/{ref.record_id}"
    if who.role == "subject" and (row is None or row.subject_id != subject_id):
        # The same words for a record that does not exist and another subject's record.
        raise Forbidden(Message("no record {record} of yours to object to", record=record))
    if row is None:
        raise NotFound(Message("no record {record}", record=record))
    if row.subject_id != subject_id:
        raise InvalidInput(
            "subject", Message("record {record} is about another subject", record=record)
        )
    status = current_status(conn, [row.id]).get(row.id, "active")
    if status in _CLOSED_STATUSES:
        raise Conflict(
            Message(
                "record {record} is {status}; it no longer counts and cannot be objected to",
                record=record,
                status=status,
            )
        )
    open_one = _open_objection(conn, row.id)
    if open_one is not None:
        raise Conflict(
            Message(
                "record {record} is already under objection {objection} (still open); add to "
                "that one instead",
                record=record,
                objection=open_one,
            )
        )
    at = now()
    days = dispute_deadline_days(conn)
    values: dict[str, Any] = {
        "record_pk": row.id,
        "subject_id": subject_id,
        "source_id": ref.source,
        "grounds": grounds,
        "filed_at": at,
        "filed_by": actor,
        "deadline_days": days,
        "due_at": at + timedelta(days=days),
    }
    if evidence is not None:
        values |= {
            "evidence_name": evidence.name[:200] or "evidence",
            "evidence_sha256": hashlib.sha256(evidence.content).hexdigest(),
            "evidence": evidence.content,
        }
    objection_id = int(
        conn.execute(sa.insert(objections).values(**values).returning(objections.c.id)).scalar_one()
    )
    change_status(
        conn,
        [(ref.source, ref.record_id, "disputed", f"objection {objection_id}: {grounds[:200]}")],
        at,
        actor,
    )
    return get_objection(conn, objection_id)


def check_evidence(evidence: Evidence) -> None:
    if len(evidence.content) > MAX_EVIDENCE_BYTES:
        size = f"{len(evidence.content):,}"
        limit = f"{MAX_EVIDENCE_BYTES:,}"
        if evidence.name:
            raise TooLarge(
                Message(
                    "evidence: {name} is {size} bytes; the limit is {limit} bytes (5 MiB)",
                    name=evidence.name,
                    size=size,
                    limit=limit,
                )
            )
        raise TooLarge(
            Message(
                "evidence: the file is {size} bytes; the limit is {limit} bytes (5 MiB)",
                size=size,
                limit=limit,
            )
        )
    if not evidence.content:
        if evidence.name:
            raise InvalidInput("evidence", Message("{name} is empty", name=evidence.name))
        raise InvalidInput("evidence", Message("the file is empty"))


# --- answering --------------------------------------------------------------------------------


def answer_objection(
    conn: sa.Connection,
    who: Principal,
    actor: str,
    objection_id: int,
    answer: str,
    corrected_by: RecordRef | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The record's source (or an operator) answers an open objection.

    verified:  the record stands; it is active again.
    corrected: `corrected_by` names a record of the same source, about the same subject, that
               supersedes this one; this one is superseded.
    retracted: the record is withdrawn.

    After the deadline it is too late: the objection has been (or is now) resolved in the
    subject's favour and the answer is refused, naming when.
    """
    if answer not in ANSWERS:
        raise InvalidInput("answer", f"{answer!r} is not one of {', '.join(ANSWERS)}")
    if (answer == "corrected") != (corrected_by is not None):
        raise InvalidInput(
            "corrected_by",
            "name the correcting record (SOURCE/RECORD_ID) with a corrected answer, and only then",
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput("note", f"is {len(note)} characters; at most {MAX_NOTE}")
    require_role(who, ("admin", "operator", "source"), "answering an objection")  # before lookup
    row = _objection_row(conn, objection_id, who)
    require_answerer(who, row.source_id)
    at = now()
    record = f"{row.source_id}/{row.record_id}"
    if row.resolution is None and at >= row.due_at:
        raise Conflict(
            Message(
                "objection {objection} was not answered by its deadline ({due}); record "
                "{record} is suppressed by the sweep",
                objection=objection_id,
                due=format_instant(row.due_at),
                record=record,
            )
        )
    if row.resolution == "suppressed":
        raise Conflict(
            Message(
                "objection {objection} was not answered by its deadline ({due}); record "
                "{record} was suppressed at {at}",
                objection=objection_id,
                due=format_instant(row.due_at),
                record=record,
                at=format_instant(row.resolved_at),
            )
        )
    if row.resolution is not None:
        raise Conflict(
            Message(
                "objection {objection} was already answered {answer} at {at}",
                objection=objection_id,
                answer=row.resolution,
                at=format_instant(row.resolved_at),
            )
        )
    current = current_status(conn, [row.record_pk]).get(row.record_pk, "active")
    if current != "disputed":
        # Ingest (a retraction, a correction) or retention (a purge) changed the record while
        # the objection was open: an answer must not bring a record back that is gone.
        raise Conflict(
            Message(
                "record {record} is {status} now, no longer disputed; objection {objection} "
                "closes as that at its deadline",
                record=record,
                status=current,
                objection=objection_id,
            )
        )
    corrected_id = None
    if answer == "corrected":
        assert corrected_by is not None
        corrected_id = _check_correction(conn, row, corrected_by)
    status, why = {
        "verified": ("active", "verified by its source"),
        "corrected": ("superseded", f"corrected by {corrected_id}"),
        "retracted": ("retracted", "retracted by its source"),
    }[answer]
    reason = f"objection {objection_id} {why}" + (f": {note[:200]}" if note else "")
    _resolve(conn, objection_id, answer, at, actor, note, corrected_id)
    change_status(conn, [(row.source_id, row.record_id, status, reason)], at, actor)
    return get_objection(conn, objection_id)


def answer(
    engine: sa.Engine,
    who: Principal,
    actor: str,
    objection_id: int,
    answer: str,
    corrected_by: RecordRef | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """`answer_objection` as the surfaces call it: an objection already past its deadline is
    first resolved as the sweep would (committed: it was due whatever the answer), so that the
    refusal names when the record was suppressed."""
    with writing(engine) as conn:
        settle_if_overdue(conn, objection_id, now())
    with writing(engine) as conn:
        return answer_objection(conn, who, actor, objection_id, answer, corrected_by, note)


def file(
    engine: sa.Engine,
    who: Principal,
    actor: str,
    ref: RecordRef,
    subject_id: int | None,
    grounds: str,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """`file_objection` in a write transaction of its own."""
    with writing(engine) as conn:
        return file_objection(conn, who, actor, ref, subject_id, grounds, evidence)


def _check_correction(conn: sa.Connection, row: Any, ref: RecordRef) -> str:
    if ref.source != row.source_id:
        raise InvalidInput(
            "corrected_by", f"the correction must come from {row.source_id}, not {ref.source}"
        )
    found = _record(conn, ref)
    if found is None:
        raise InvalidInput(
            "corrected_by",
            f"no record {ref.source}/{ref.record_id}; send the correcting record first, "
            f"with supersedes: {row.record_id}",
        )
    if found.supersedes != row.record_id or found.subject_id != row.subject_id:
        raise InvalidInput(
            "corrected_by",
            f"{ref.source}/{ref.record_id} does not supersede {row.record_id} "
            "(send a record about the same subject with supersedes set to it)",
        )
    return ref.record_id


# --- the deadline -----------------------------------------------------------------------------


def resolve_overdue(conn: sa.Connection, at: datetime) -> int:
    """The sweep's step: every objection still open at its deadline resolves in the subject's
    favour (the record is suppressed, reason `unverified_by_deadline`). Returns how many.

    Due on day 20 means: filed at t with a 20-day deadline, still open at t + 19d23h59m,
    suppressed by a sweep at t + 20d or later. Writes one audit entry per objection (actor
    `system:sweep`) in the caller's transaction.
    """
    return _settle(conn, at)


def settle_if_overdue(conn: sa.Connection, objection_id: int, at: datetime) -> int:
    """Resolve one objection as the sweep would, if it is open and past its deadline."""
    return _settle(conn, at, objection_id)


def _settle(conn: sa.Connection, at: datetime, objection_id: int | None = None) -> int:
    query = _objection_query().where(objections.c.resolution.is_(None), objections.c.due_at <= at)
    if objection_id is not None:
        query = query.where(objections.c.id == objection_id)
    due = list(conn.execute(query.order_by(objections.c.due_at, objections.c.id)))
    for row in due:
        _suppress(conn, row, at)
    if due:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
        append(
            conn,
            [
                Entry.now(
                    SWEEP_ACTOR,
                    "system",
                    "objection.suppress",
                    f"objection {row.id}: {row.source_id}/{row.record_id}",
                    SUPPRESSED_REASON,
                )
                for row in due
            ],
        )
    return len(due)


def _suppress(conn: sa.Connection, row: Any, at: datetime) -> None:
    """Resolve one overdue objection. A record still disputed is suppressed; one its source
    corrected or retracted through ingest meanwhile closes the objection as that."""
    status = current_status(conn, [row.record_pk]).get(row.record_pk, "active")
    if status == "disputed":
        _resolve(conn, row.id, "suppressed", at, SWEEP_ACTOR, None, None)
        change_status(
            conn, [(row.source_id, row.record_id, "suppressed", SUPPRESSED_REASON)], at, SWEEP_ACTOR
        )
        return
    resolution = {"superseded": "corrected", "retracted": "retracted", "purged": "retracted"}.get(
        status, "verified"
    )
    _resolve(conn, row.id, resolution, at, SWEEP_ACTOR, f"the record was {status}", None)


def _resolve(
    conn: sa.Connection,
    objection_id: int,
    resolution: str,
    at: datetime,
    actor: str,
    note: str | None,
    corrected_by: str | None,
) -> None:
    """Write the resolution once: a concurrent answer or sweep that got there first wins."""
    done = conn.execute(
        sa.update(objections)
        .where(objections.c.id == objection_id, objections.c.resolution.is_(None))
        .values(
            resolution=resolution,
            resolved_at=at,
            resolved_by=actor,
            note=note,
            corrected_by=corrected_by,
        )
    ).rowcount
    if done != 1:
        raise Conflict(
            Message(
                "objection {objection} was resolved meanwhile; ask again", objection=objection_id
            )
        )
    _tell_subject(conn, objection_id, resolution, at)


# What the subject is told when its objection ends (FCRA §611(a)(6): the consumer is told the
# result), in words, one whole sentence per result; the record is named by its source and id.
RESOLVED = {
    "verified": N_(
        "Your objection to record {record} is resolved: the source checked it and stands by "
        "it, so it counts again."
    ),
    "corrected": N_(
        "Your objection to record {record} is resolved: the source corrected it; the corrected "
        "record counts instead."
    ),
    "retracted": N_(
        "Your objection to record {record} is resolved: it was withdrawn; it no longer counts."
    ),
    "suppressed": N_(
        "Your objection to record {record} is resolved: nobody verified it by the deadline, so "
        "it no longer counts."
    ),
}


def _tell_subject(conn: sa.Connection, objection_id: int, resolution: str, at: datetime) -> None:
    """A case notice to the subject: how its objection ended (through the notices outbox)."""
    row = conn.execute(
        sa.select(objections.c.subject_id, objections.c.source_id, records.c.record_id)
        .join(records, records.c.id == objections.c.record_pk)
        .where(objections.c.id == objection_id)
    ).one()
    record = f"{row.source_id}/{row.record_id}"
    case_notice(
        conn,
        row.subject_id,
        "objection_resolved",
        f"objection {objection_id}",
        Message(RESOLVED[resolution], record=record),
        {"objection": objection_id, "record": record, "resolution": resolution},
        adverse=resolution == "verified",
        created_at=at,
    )


# --- reading ----------------------------------------------------------------------------------


def get_objection(
    conn: sa.Connection, objection_id: int, who: Principal | None = None
) -> dict[str, Any]:
    """One objection with its timeline; `who` (when given) must be allowed to see it."""
    return _document(conn, _objection_row(conn, objection_id, who), timeline=True)


def list_objections(
    conn: sa.Connection,
    who: Principal,
    *,
    state: CaseState = "all",
    subject_id: int | None = None,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """The objections `who` may see, by due date: staff all, a source those about its own
    records, a subject its own. `overdue`: still open at or after the deadline as of `at`."""
    require_case_reader(who)
    query = _objection_query()
    if who.role == "subject":
        query = query.where(objections.c.subject_id == who.subject_id)
    elif who.role == "source":
        query = query.where(objections.c.source_id == who.source_id)
    if subject_id is not None:
        query = query.where(objections.c.subject_id == subject_id)
    if state != "all":
        query = query.where(objections.c.resolution.is_(None))
    if state == "overdue":
        query = query.where(objections.c.due_at <= (at or now()))
    rows = list(conn.execute(query.order_by(objections.c.due_at, objections.c.id)))
    names = first_identifiers(conn, {r.subject_id for r in rows})
    return [_document(conn, r, names=names) for r in rows]


def evidence_of(conn: sa.Connection, objection_id: int, who: Principal) -> Evidence:
    """The file filed with an objection, for whoever may see the objection (its source needs
    it to check the record)."""
    _objection_row(conn, objection_id, who)
    row = conn.execute(
        sa.select(objections.c.evidence_name, objections.c.evidence).where(
            objections.c.id == objection_id
        )
    ).one()
    if row.evidence is None:
        raise NotFound(Message("objection {objection} has no evidence", objection=objection_id))
    return Evidence(str(row.evidence_name), bytes(row.evidence))


def _objection_query() -> sa.Select[Any]:
    columns = [c for c in objections.c if c.name != "evidence"]
    return sa.select(*columns, records.c.record_id, records.c.type, records.c.occurred_at).join(
        records, records.c.id == objections.c.record_pk
    )


def _objection_row(conn: sa.Connection, objection_id: int, who: Principal | None) -> Any:
    if who is not None:
        require_case_reader(who)  # before the lookup: the same refusal whatever the id
    row = conn.execute(_objection_query().where(objections.c.id == objection_id)).first()
    if row is None or (who is not None and not may_see_case(who, row.subject_id, row.source_id)):
        # Someone else's objection is answered as one that does not exist.
        raise NotFound(Message("no objection {objection}", objection=objection_id))
    return row


def _record(conn: sa.Connection, ref: RecordRef) -> Any:
    return conn.execute(
        sa.select(records.c.id, records.c.subject_id, records.c.supersedes).where(
            records.c.source_id == ref.source, records.c.record_id == ref.record_id
        )
    ).first()


def _open_objection(conn: sa.Connection, record_pk: int) -> int | None:
    found = conn.execute(
        sa.select(objections.c.id).where(
            objections.c.record_pk == record_pk, objections.c.resolution.is_(None)
        )
    ).scalar()
    return None if found is None else int(found)


def _document(
    conn: sa.Connection,
    row: Any,
    *,
    names: dict[int, str] | None = None,
    timeline: bool = False,
) -> dict[str, Any]:
    if names is None:
        names = first_identifiers(conn, {row.subject_id})
    out: dict[str, Any] = {
        "id": row.id,
        "record": f"{row.source_id}/{row.record_id}",
        "source": row.source_id,
        "record_id": row.record_id,
        "type": row.type,
        "occurred_at": format_instant(row.occurred_at),
        "subject": names.get(row.subject_id),
        "grounds": row.grounds,
        "evidence": (
            {"name": row.evidence_name, "sha256": row.evidence_sha256}
            if row.evidence_sha256
            else None
        ),
        "filed_at": format_instant(row.filed_at),
        "filed_by": row.filed_by,
        "deadline_days": row.deadline_days,
        "due_at": format_instant(row.due_at),
        "state": row.resolution or "open",
        "resolved_at": format_instant(row.resolved_at),
        "resolved_by": row.resolved_by,
        "note": row.note,
        "corrected_by": (f"{row.source_id}/{row.corrected_by}" if row.corrected_by else None),
    }
    if timeline:
        out["timeline"] = _timeline(conn, row)
    return out


def _timeline(conn: sa.Connection, row: Any) -> list[dict[str, Any]]:
    """The record's status changes since the objection was filed, then the deadline."""
    changes = conn.execute(
        sa.select(record_status)
        .where(
            record_status.c.record_pk == row.record_pk, record_status.c.changed_at >= row.filed_at
        )
        .order_by(record_status.c.id)
    )
    out = [
        {
            "at": format_instant(c.changed_at),
            "status": c.status,
            "reason": c.reason,
            "actor": c.actor,
        }
        for c in changes
    ]
    if row.resolution is None:
        out.append(
            {
                "at": format_instant(row.due_at),
                "status": "due",
                "reason": Message("the source must answer by then, or the record is suppressed"),
                "actor": None,
            }
        )
    return out
