"""Objections in the portal: the subject's "Object" form and the timeline of each objection;
for staff, the timeline with the answer form. The same service (`rights.objections`) and rules
as `/v1/objections`, audited the same way."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.api.errors import status_of
from socialcredit.errors import Conflict, InvalidInput, NotFound, TooLarge
from socialcredit.i18n import _
from socialcredit.rights import objections as service
from socialcredit.sharing.access import STAFF, require_own, require_role
from socialcredit.sharing.keys import Principal
from socialcredit.store.registry import subject_by_id
from socialcredit.web.pages.cases import refusal
from socialcredit.web.pages.session import same_site
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RecordField = Annotated[str, Form(max_length=265)]
ObjectionId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/me/objections/new")
def objection_form(
    request: Request,
    svc: Svc,
    who: PageCaller,
    record: Annotated[str, Query(max_length=265)] = "",
) -> Response:
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
    return _form(request, who, subject.identifier, record, "", None)


def _form(
    request: Request,
    who: Principal,
    identifier: str,
    record: str,
    grounds: str,
    message: str | None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "objection_form.html",
        who,
        status,
        title=_("Object to a record"),
        nav="me",
        identifier=identifier,
        record=record,
        grounds=grounds,
        message=message,
        limit=service.MAX_EVIDENCE_BYTES,
    )


@router.post("/me/objections")
async def file_objection(
    request: Request,
    svc: Svc,
    who: PageCaller,
    record: RecordField = "",
    grounds: Annotated[str, Form(max_length=service.MAX_GROUNDS)] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> Response:
    same_site(request)
    subject_id = require_own(who)
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, subject_id)
    proof = None
    try:
        if evidence is not None and evidence.filename:
            content = await evidence.read(service.MAX_EVIDENCE_BYTES + 1)
            proof = service.Evidence(evidence.filename, content)
        ref = service.parse_record_ref(record)
        filed = service.file(svc.engine, who, who.name, ref, subject_id, grounds, proof)
    except (InvalidInput, Conflict, TooLarge) as error:
        return _form(
            request, who, subject.identifier, record, grounds, refusal(error), status_of(error)
        )
    svc.log(
        who,
        "objection.file",
        f"objection {filed['id']}: {filed['record']} ({subject.identifier})",
        PURPOSE,
    )
    return RedirectResponse(f"/me/objections/{filed['id']}", status_code=303)


@router.get("/me/objections/{objection_id}")
def my_objection(
    request: Request, svc: Svc, who: PageCaller, objection_id: ObjectionId
) -> Response:
    require_own(who)
    return _case_page(request, svc, who, objection_id, "me", None)


@router.get("/objections/{objection_id}")
def objection_page(
    request: Request, svc: Svc, who: PageCaller, objection_id: ObjectionId
) -> Response:
    require_role(who, STAFF, "the objection pages")
    return _case_page(request, svc, who, objection_id, "queue", None)


@router.post("/objections/{objection_id}/answer")
def answer_page(
    request: Request,
    svc: Svc,
    who: PageCaller,
    objection_id: ObjectionId,
    answer: Annotated[str, Form(max_length=16)] = "",
    corrected_by: RecordField = "",
    note: Annotated[str, Form(max_length=service.MAX_NOTE)] = "",
) -> Response:
    same_site(request)
    require_role(who, STAFF, "answering an objection")
    try:
        ref = service.parse_record_ref(corrected_by, "corrected_by") if corrected_by else None
        done = service.answer(svc.engine, who, who.name, objection_id, answer, ref, note)
    except (InvalidInput, Conflict) as error:
        return _case_page(
            request, svc, who, objection_id, "queue", refusal(error), status_of(error)
        )
    svc.log(
        who,
        "objection.answer",
        f"objection {objection_id}: {done['record']} {done['state']}",
        PURPOSE,
    )
    return RedirectResponse(f"/objections/{objection_id}", status_code=303)


def _case_page(
    request: Request,
    svc: Svc,
    who: Principal,
    objection_id: int,
    nav: str,
    message: str | None,
    status: int = 200,
) -> Response:
    try:
        with svc.engine.connect() as conn:
            case: dict[str, Any] = service.get_objection(conn, objection_id, who)
    except NotFound:
        svc.log(who, "objection.read", f"objection {objection_id}", PURPOSE, "not_found")
        raise
    svc.log(who, "objection.read", f"objection {objection_id}: {case['subject']}", PURPOSE)
    return page(
        request,
        "objection.html",
        who,
        status,
        title=_("Objection {objection}", objection=objection_id),
        nav=nav,
        case=case,
        staff=who.role in STAFF,
        message=message,
    )
