"""`/v1/me`: a subject's own data, with the subject's own key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.models import ERRORS, AuditProof
from socialcredit.audit.checkpoint import entry_about, inclusion, latest_checkpoint
from socialcredit.errors import Forbidden, NotFound
from socialcredit.rights.reports import explain_subject, report_document
from socialcredit.rights.subject_data import subject_document, subject_records, subject_scores
from socialcredit.sharing.access import require_own
from socialcredit.store.registry import subject_by_id

router = APIRouter(prefix="/v1/me", tags=["me"], responses=ERRORS)


@router.get("")
def me(svc: Svc, who: Caller, purpose: Purpose) -> dict[str, Any]:
    """Who I am in the registry, and my standing under every policy in force."""
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        scores = subject_scores(conn, subject)
    svc.log(who, "me.read", subject.identifier, purpose)
    return {"subject": subject_document(subject), "scores": scores}


@router.get("/report")
def my_report(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    policy: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    """Why I have my score under a policy, record by record."""
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        document = report_document(explain_subject(conn, subject.identifier, policy))
    svc.log(who, "me.report", subject.identifier, purpose)
    return document


@router.get("/records")
def my_records(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> dict[str, Any]:
    """The records sources sent about me, newest first, with their status."""
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        page = subject_records(conn, subject, limit, offset)
    svc.log(who, "me.records", subject.identifier, purpose)
    return page


@router.get("/audit/proofs", response_model=AuditProof)
def my_audit_proof(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    seq: Annotated[int, Query(ge=1, le=2**62, description="The audit entry's seq.")],
) -> Any:
    """The proof that audit entry `seq`, an entry about my data, is in the latest signed
    checkpoint (`GET /v1/audit/checkpoint`). Only entries about my own data."""
    subject_id = require_own(who)
    with svc.engine.connect() as conn:
        if not entry_about(conn, seq, who.identifiers):
            raise Forbidden(
                f"audit entry {seq} is not about your data; a subject key may have "
                "proofs only of entries about its own"
            )
        latest = latest_checkpoint(conn)
        if latest is None:
            raise NotFound("the audit log has no signed checkpoint yet; ask again in a minute")
        proof = inclusion(conn, seq, latest)
        subject = subject_by_id(conn, subject_id)
    svc.log(who, "me.audit.proof", subject.identifier, purpose)
    return proof
