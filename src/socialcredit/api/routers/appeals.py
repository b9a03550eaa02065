"""Appeals of decisions and human review: `/v1/appeals`, and `/v1/me/appeals` for the subject's
own. The rules are `rights.appeals`'; this module translates HTTP to them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field

from socialcredit.api.auth import Caller, Purpose, Svc, requires
from socialcredit.api.models import ERRORS, Closed
from socialcredit.rights import appeals
from socialcredit.rights.cases import MAX_TEXT, open_case
from socialcredit.sharing.access import REVIEWERS, require_own, require_reviewer
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import writing
from socialcredit.store.registry import Subject, find_subject, subject_by_id
from socialcredit.timeutil import now

router = APIRouter(prefix="/v1", tags=["appeals"], responses=ERRORS)

Slug = Annotated[str, Field(min_length=1, max_length=64)]
Words = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Identifier = Annotated[str, Field(min_length=1, max_length=220, examples=["cn-rid:…"])]
CaseId = Annotated[int, Path(ge=1, le=2**62)]
State = Annotated[Literal["open", "overdue"] | None, Query(description="open or overdue")]


class MyAppealIn(Closed):
    policy: Slug
    measure: Slug
    grounds: Words
    cause: Identifier | None = Field(
        default=None, description="For a collateral measure: the subject whose conduct brought it."
    )


class AppealIn(MyAppealIn):
    subject: Identifier


class DecisionIn(Closed):
    outcome: Literal["uphold", "override"]
    note: Words
    until: datetime | None = Field(
        default=None,
        # Strict models refuse a string for a datetime; JSON has no other way to send one, so
        # this field parses ISO 8601 text (and refuses anything else).
        strict=False,
        description="When an override ends; without it, when its cause changes.",
    )


def _file(svc: Svc, who: Principal, subject: Subject, body: MyAppealIn, purpose: str) -> Any:
    with writing(svc.engine) as conn:
        appeal = appeals.file_appeal(
            conn, subject, body.policy, body.measure, body.grounds, who.name, body.cause
        )
        document = appeals.appeal_document(conn, appeal, now())
    svc.log(who, "appeal.file", f"appeal {appeal.id}: {subject.identifier}", purpose)
    return document


@router.post("/appeals")
def file_appeal(body: AppealIn, svc: Svc, who: Caller, purpose: Purpose) -> dict[str, Any]:
    """Appeal a decision: the subject itself, or staff on its behalf. The answer is the appeal,
    with its id and the date a reviewer's decision is due."""
    subject = svc.open_subject(who, body.subject, "appeal.file", purpose)
    result: dict[str, Any] = _file(svc, who, subject, body, purpose)
    return result


@router.get("/appeals", dependencies=[requires(REVIEWERS, "reading appeals")])
def list_appeals(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    state: State = None,
    subject: Annotated[str | None, Query(min_length=1, max_length=220)] = None,
) -> list[dict[str, Any]]:
    """Appeals by due date (reviewers and staff): all, the open ones, or the overdue ones."""
    require_reviewer(who, "reading appeals")
    at = now()
    with svc.engine.connect() as conn:
        subject_id = find_subject(conn, subject).id if subject else None
        found = appeals.list_appeals(conn, at, state, subject_id)
        documents = [appeals.appeal_document(conn, a, at) for a in found]
    svc.log(who, "appeal.list", f"{len(documents)} appeals ({state or 'all'})", purpose)
    return documents


@router.get("/appeals/{appeal_id}")
def read_appeal(appeal_id: CaseId, svc: Svc, who: Caller, purpose: Purpose) -> dict[str, Any]:
    """One appeal and its timeline: its subject, or a reviewer."""
    appeal = open_case(
        svc.engine, svc.log, who, appeals.get_appeal, appeal_id, "appeal.read", purpose
    )
    with svc.engine.connect() as conn:
        return appeals.appeal_document(conn, appeal, now())


@router.post(
    "/appeals/{appeal_id}/decision", dependencies=[requires(REVIEWERS, "deciding appeals")]
)
def decide_appeal(
    appeal_id: CaseId, body: DecisionIn, svc: Svc, who: Caller, purpose: Purpose
) -> dict[str, Any]:
    """A reviewer's decision: uphold, or override (the measure is lifted for the subject until
    `until`, or until its cause changes). The gate honours an override within a second."""
    require_reviewer(who, "deciding appeals")
    with writing(svc.engine) as conn:
        appeal = appeals.decide_appeal(
            conn, appeal_id, body.outcome, body.note, who.name, body.until
        )
        document = appeals.appeal_document(conn, appeal, now())
    svc.log(who, "appeal.decide", f"appeal {appeal.id}: {appeal.status}", purpose)
    return document


@router.get("/me/appeals")
def my_appeals(svc: Svc, who: Caller, purpose: Purpose) -> list[dict[str, Any]]:
    """My appeals, by due date."""
    at = now()
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        found = appeals.list_appeals(conn, at, None, subject.id)
        documents = [appeals.appeal_document(conn, a, at) for a in found]
    svc.log(who, "me.appeals", subject.identifier, purpose)
    return documents


@router.post("/me/appeals")
def file_my_appeal(body: MyAppealIn, svc: Svc, who: Caller, purpose: Purpose) -> dict[str, Any]:
    """Appeal a decision about me: a measure that applies to me, my own or collateral."""
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
    result: dict[str, Any] = _file(svc, who, subject, body, purpose)
    return result
