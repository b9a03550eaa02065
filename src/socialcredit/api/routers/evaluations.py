"""Evaluations: start a run of the policies in force (a job), list and read what was run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import JSONResponse

from socialcredit.api.auth import Caller, Purpose, Svc, requires
from socialcredit.api.models import ERRORS, EvaluationIn, EvaluationOut, JobOut
from socialcredit.api.routers.jobs import job_out
from socialcredit.sharing.access import OVERSIGHT, STAFF, require_role
from socialcredit.store.evaluations import Evaluation, get_evaluation, list_evaluations
from socialcredit.timeutil import format_instant, parse_instant

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"], responses=ERRORS)


def _out(e: Evaluation) -> dict[str, Any]:
    return {
        "id": e.id,
        "policy": e.policy_name,
        "policy_version": e.policy_version,
        "as_of": format_instant(e.as_of),
        "known_at": format_instant(e.known_at),
        "current": e.current,
        "engine": e.engine,
        "counts": e.counts,
        "seconds": round((e.finished_at - e.started_at).total_seconds(), 3),
    }


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    dependencies=[requires(STAFF, "running an evaluation")],
)
def run(body: EvaluationIn, svc: Svc, who: Caller, purpose: Purpose) -> Any:
    """Start evaluating the policies in force (or those named) and storing the outcomes: the
    answer is the job (202, `Location` names it); GET it until it has succeeded or failed.
    Unknown policies and an `as_of` in the future are refused here, and nothing is queued.
    Gate checks answer from the new evaluations within a second of their storing."""
    require_role(who, STAFF, "running an evaluation")
    as_of = parse_instant(body.as_of, "as_of") if body.as_of else None
    job = job_out(svc.jobs.submit(who, purpose, body.policies, as_of))
    return JSONResponse(job, status_code=202, headers={"Location": job["href"]})


@router.get("", response_model=list[EvaluationOut])
def index(
    svc: Svc,
    who: Caller,
    policy: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Any:
    """Stored evaluations, oldest first (counts, not personal data)."""
    require_role(who, OVERSIGHT, "listing evaluations")
    with svc.engine.connect() as conn:
        return [_out(e) for e in list_evaluations(conn, policy)]


@router.get("/{evaluation_id}", response_model=EvaluationOut)
def one(
    svc: Svc,
    who: Caller,
    evaluation_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Any:
    """One stored evaluation (counts, not personal data)."""
    require_role(who, OVERSIGHT, "reading an evaluation")
    with svc.engine.connect() as conn:
        return _out(get_evaluation(conn, evaluation_id))
