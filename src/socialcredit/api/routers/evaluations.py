"""Evaluations: run the policies in force now, and list what was run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.auth import Caller, Purpose, Svc, requires
from socialcredit.api.models import ERRORS, EvaluationIn, EvaluationOut
from socialcredit.audit.checkpoint import checkpoint_after
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.sharing.access import OVERSIGHT, STAFF, require_role
from socialcredit.store.evaluations import Evaluation, list_evaluations
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
    response_model=list[EvaluationOut],
    dependencies=[requires(STAFF, "running an evaluation")],
)
def run(body: EvaluationIn, svc: Svc, who: Caller, purpose: Purpose) -> Any:
    """Evaluate the policies in force (or those named) and store the outcomes. Gate checks
    answer from the new evaluations within a second."""
    require_role(who, STAFF, "running an evaluation")
    as_of = parse_instant(body.as_of, "as_of") if body.as_of else None
    done = run_evaluations(svc.engine, svc.settings, body.policies, as_of=as_of)
    with svc.engine.connect() as conn:
        found = {e.id: e for e in list_evaluations(conn)}
    for r in done.results:
        svc.log(who, "evaluation.run", f"{r.policy.name} evaluation {r.evaluation_id}", purpose)
    checkpoint_after(svc.engine, svc.settings, "an evaluation")
    return [_out(found[r.evaluation_id]) for r in done.results]


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
