"""`/v1/objections` and `/v1/me/objections`: objections to records (see docs/rights.md).

The subject files (or staff for it); the record's source sees and answers the objections about
its own records; staff see and decide all. The rules are in `rights.objections` and
`sharing.access`; this module translates and audits.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.context import Service
from socialcredit.api.models import ERRORS, AnswerIn, EvidenceIn, MyObjectionIn, ObjectionIn
from socialcredit.errors import InvalidInput, NotFound
from socialcredit.rights import objections as service
from socialcredit.sharing.access import require_case_reader, require_objector, require_own
from socialcredit.sharing.keys import Principal
from socialcredit.store.registry import subject_by_id

FILING = {**ERRORS, 413: {"model": ERRORS[409]["model"], "description": "Evidence over 5 MiB"}}
router = APIRouter(prefix="/v1", tags=["objections"], responses=ERRORS)
State = Literal["all", "open", "overdue"]
ObjectionId = Annotated[int, Path(ge=1, le=2**62)]


def _evidence(given: EvidenceIn | None) -> service.Evidence | None:
    if given is None:
        return None
    try:
        content = base64.b64decode(given.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("evidence.content_base64", "is not base64") from None
    return service.Evidence(given.name, content)


def _file(
    svc: Service, who: Principal, purpose: str, body: MyObjectionIn, subject: str | None
) -> dict[str, Any]:
    require_objector(who)  # before anything is looked up
    ref = service.parse_record_ref(body.record)
    evidence = _evidence(body.evidence)
    if subject is not None:
        found = svc.open_subject(who, subject, "objection.file", purpose)
        subject_id: int | None = found.id
    else:
        subject_id = require_own(who) if who.role == "subject" else None
    filed = service.file(svc.engine, who, who.name, ref, subject_id, body.grounds, evidence)
    target = f"objection {filed['id']}: {filed['record']} ({filed['subject']})"
    svc.log(who, "objection.file", target, purpose)
    return filed


@router.post("/objections", responses=FILING)
def file_objection(body: ObjectionIn, svc: Svc, who: Caller, purpose: Purpose) -> dict[str, Any]:
    """Object to a record: the subject (its own record) or staff on its behalf (`subject`
    names it). The record is disputed at once, and its source must answer by `due_at`."""
    return _file(svc, who, purpose, body, body.subject)


@router.get("/objections")
def list_objections(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    state: Annotated[State, Query()] = "all",
    subject: Annotated[str | None, Query(max_length=220)] = None,
) -> dict[str, Any]:
    """The objections the caller may see, by due date: staff all, a source those about its
    own records, a subject its own. `state=overdue`: open past the deadline."""
    require_case_reader(who)
    subject_id = None
    if subject is not None:
        subject_id = svc.open_subject(who, subject, "objection.list", purpose).id
    with svc.engine.connect() as conn:
        found = service.list_objections(conn, who, state=state, subject_id=subject_id)
    svc.log(who, "objection.list", f"{state} objections: {len(found)}", purpose)
    return {"objections": found}


@router.get("/objections/{objection_id}")
def get_objection(
    objection_id: ObjectionId, svc: Svc, who: Caller, purpose: Purpose
) -> dict[str, Any]:
    """One objection and its timeline (each status change of the record, then the
    deadline while it is open)."""
    try:
        with svc.engine.connect() as conn:
            found = service.get_objection(conn, objection_id, who)
    except NotFound:
        svc.log(who, "objection.read", f"objection {objection_id}", purpose, "not_found")
        raise
    svc.log(who, "objection.read", f"objection {objection_id}: {found['subject']}", purpose)
    return found


@router.get(
    "/objections/{objection_id}/evidence",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file"}},
)
def objection_evidence(
    objection_id: ObjectionId, svc: Svc, who: Caller, purpose: Purpose
) -> Response:
    """The file filed with the objection (its SHA-256 is in the objection), for whoever may see
    the objection: staff, the record's source, the subject."""
    try:
        with svc.engine.connect() as conn:
            evidence = service.evidence_of(conn, objection_id, who)
    except NotFound:
        svc.log(who, "objection.evidence", f"objection {objection_id}", purpose, "not_found")
        raise
    svc.log(who, "objection.evidence", f"objection {objection_id}: {evidence.name}", purpose)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in evidence.name)[:100]
    return Response(
        evidence.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe or "evidence"}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/objections/{objection_id}/answer")
def answer_objection(
    objection_id: ObjectionId, body: AnswerIn, svc: Svc, who: Caller, purpose: Purpose
) -> dict[str, Any]:
    """The record's source (or staff) answers: `verified` (it counts again), `corrected` (by
    the superseding record `corrected_by`) or `retracted`. Refused after the deadline."""
    ref = service.parse_record_ref(body.corrected_by, "corrected_by") if body.corrected_by else None
    try:
        done = service.answer(svc.engine, who, who.name, objection_id, body.answer, ref, body.note)
    except NotFound:
        svc.log(who, "objection.answer", f"objection {objection_id}", purpose, "not_found")
        raise
    svc.log(
        who,
        "objection.answer",
        f"objection {objection_id}: {done['record']} {done['state']}",
        purpose,
    )
    return done


@router.get("/me/objections")
def my_objections(svc: Svc, who: Caller, purpose: Purpose) -> dict[str, Any]:
    """My objections, by due date."""
    subject_id = require_own(who)
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, subject_id)
        found = service.list_objections(conn, who, subject_id=subject_id)
    svc.log(who, "me.objections", subject.identifier, purpose)
    return {"objections": found}


@router.post("/me/objections", responses=FILING)
def file_my_objection(
    body: MyObjectionIn, svc: Svc, who: Caller, purpose: Purpose
) -> dict[str, Any]:
    """Object to one of my records: it is disputed at once."""
    require_own(who)
    return _file(svc, who, purpose, body, None)
