"""Credit repair: `/v1/repair`, and `/v1/me/repair` for the subject's own. The rules are
`rights.repair`'s; this module translates HTTP to them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from socialcredit.api.auth import Caller, Purpose, Svc, requires
from socialcredit.api.models import ERRORS, Closed
from socialcredit.api.routers.appeals import CaseId, Identifier, Slug, State, Words
from socialcredit.rights import repair
from socialcredit.rights.cases import open_case
from socialcredit.sharing.access import REVIEWERS, require_own, require_reviewer
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import writing
from socialcredit.store.registry import Subject, find_subject, subject_by_id
from socialcredit.timeutil import now

router = APIRouter(prefix="/v1", tags=["credit repair"], responses=ERRORS)


class MyRepairIn(Closed):
    policy: Slug
    list: Slug = Field(description="The list to leave.")


class RepairIn(MyRepairIn):
    subject: Identifier


class RepairDecisionIn(Closed):
    approve: bool = Field(description="true writes the list's exit record; false refuses.")
    note: Words


def _apply(svc: Svc, who: Principal, subject: Subject, body: MyRepairIn, purpose: str) -> Any:
    with writing(svc.engine) as conn:
        found = repair.apply_for_repair(conn, subject, body.policy, body.list, who.name)
        document = repair.application_document(conn, found, now())
    svc.log(who, "repair.apply", f"repair {found.id}: {subject.identifier}", purpose)
    return document


@router.post("/repair")
def apply_for_repair(body: RepairIn, svc: Svc, who: Caller, purpose: Purpose) -> dict[str, Any]:
    """Apply to leave a list early: the subject itself, or staff on its behalf."""
    subject = svc.open_subject(who, body.subject, "repair.apply", purpose)
    result: dict[str, Any] = _apply(svc, who, subject, body, purpose)
    return result


@router.get("/repair", dependencies=[requires(REVIEWERS, "reading repair applications")])
def list_applications(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    state: State = None,
    subject: Annotated[str | None, Query(min_length=1, max_length=220)] = None,
) -> list[dict[str, Any]]:
    """Repair applications by due date (reviewers and staff)."""
    require_reviewer(who, "reading repair applications")
    at = now()
    with svc.engine.connect() as conn:
        subject_id = find_subject(conn, subject).id if subject else None
        found = repair.list_applications(conn, at, state, subject_id)
        documents = [repair.application_document(conn, a, at) for a in found]
    svc.log(who, "repair.list", f"{len(documents)} applications ({state or 'all'})", purpose)
    return documents


@router.get("/repair/{application_id}")
def read_application(
    application_id: CaseId, svc: Svc, who: Caller, purpose: Purpose
) -> dict[str, Any]:
    """One repair application and its timeline: its subject, or a reviewer."""
    found = open_case(
        svc.engine, svc.log, who, repair.get_application, application_id, "repair.read", purpose
    )
    with svc.engine.connect() as conn:
        return repair.application_document(conn, found, now())


@router.post(
    "/repair/{application_id}/decision",
    dependencies=[requires(REVIEWERS, "deciding repair applications")],
)
def decide_application(
    application_id: CaseId, body: RepairDecisionIn, svc: Svc, who: Caller, purpose: Purpose
) -> dict[str, Any]:
    """A reviewer approves (the list's exit record is written) or refuses, with reasons."""
    require_reviewer(who, "deciding repair applications")
    with writing(svc.engine) as conn:
        found = repair.decide_repair(conn, application_id, body.approve, body.note, who.name)
        document = repair.application_document(conn, found, now())
    svc.log(who, "repair.decide", f"repair {found.id}: {found.status}", purpose)
    return document


@router.get("/me/repair")
def my_applications(svc: Svc, who: Caller, purpose: Purpose) -> list[dict[str, Any]]:
    """My repair applications, by due date."""
    at = now()
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        found = repair.list_applications(conn, at, None, subject.id)
        documents = [repair.application_document(conn, a, at) for a in found]
    svc.log(who, "me.repair", subject.identifier, purpose)
    return documents


@router.post("/me/repair")
def apply_for_my_repair(
    body: MyRepairIn, svc: Svc, who: Caller, purpose: Purpose
) -> dict[str, Any]:
    """Apply to leave a list I am on, once its repair terms are met."""
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
    result: dict[str, Any] = _apply(svc, who, subject, body, purpose)
    return result
