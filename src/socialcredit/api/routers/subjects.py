"""A subject's data: registry entry, scores, explanation, history, records.

Staff may read any subject; a subject key only its own identifiers. A refused read is in the
audit log too.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.models import ERRORS, SubjectOut
from socialcredit.rights.reports import explain_subject, report_document
from socialcredit.rights.subject_data import (
    subject_document,
    subject_history,
    subject_records,
    subject_scores,
)

router = APIRouter(prefix="/v1/subjects", tags=["subjects"], responses=ERRORS)

PolicyQuery = Annotated[str, Query(min_length=1, max_length=64, description="Policy name.")]
OptionalPolicy = Annotated[
    str | None, Query(min_length=1, max_length=64, description="One policy (default: all).")
]
Identifier = Annotated[str, "scheme:value"]


@router.get("/{identifier}", response_model=SubjectOut)
def get_subject(identifier: Identifier, svc: Svc, who: Caller, purpose: Purpose) -> Any:
    """The subject's registry entry."""
    subject = svc.open_subject(who, identifier, "subject.read", purpose)
    return subject_document(subject)


@router.get("/{identifier}/scores")
def get_scores(
    identifier: Identifier,
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    policy: OptionalPolicy = None,
) -> list[dict[str, Any]]:
    """Score, tier, percentile, categories, lists and measures under each policy in force."""
    subject = svc.open_subject(who, identifier, "subject.scores", purpose)
    with svc.engine.connect() as conn:
        return subject_scores(conn, subject, policy)


@router.get("/{identifier}/report")
def get_report(
    identifier: Identifier,
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    policy: PolicyQuery,
    evaluation: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Why the subject has its score: the factors that raised and lowered it, record by
    record, its lists and measures with reasons, and the relationships that shaped it."""
    subject = svc.open_subject(who, identifier, "subject.report", purpose)
    with svc.engine.connect() as conn:
        return report_document(explain_subject(conn, subject.identifier, policy, evaluation))


@router.get("/{identifier}/history")
def get_history(
    identifier: Identifier, svc: Svc, who: Caller, purpose: Purpose, policy: PolicyQuery
) -> list[dict[str, Any]]:
    """The subject's score in every stored evaluation of the policy, by as_of."""
    subject = svc.open_subject(who, identifier, "subject.history", purpose)
    with svc.engine.connect() as conn:
        return subject_history(conn, subject, policy)


@router.get("/{identifier}/records")
def get_records(
    identifier: Identifier,
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> dict[str, Any]:
    """The records sources sent about the subject, newest first, with their status."""
    subject = svc.open_subject(who, identifier, "subject.records", purpose)
    with svc.engine.connect() as conn:
        return subject_records(conn, subject, limit, offset)
