"""Jobs: long work the service runs off the request path (see `socialcredit.jobs`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from socialcredit.api.auth import Caller, Svc
from socialcredit.api.models import ERRORS, JobOut
from socialcredit.jobs.store import Job
from socialcredit.sharing.access import OVERSIGHT, require_role
from socialcredit.timeutil import format_instant

router = APIRouter(prefix="/v1/jobs", tags=["evaluations"], responses=ERRORS)


def job_out(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "href": f"/v1/jobs/{job.id}",
        "kind": job.kind,
        "state": job.state,
        "progress": {"done": job.done, "total": job.total, "step": job.step},
        "request": job.request,
        "requested_by": job.requested_by,
        "created_at": format_instant(job.created_at),
        "started_at": format_instant(job.started_at),
        "finished_at": format_instant(job.finished_at),
        "error": job.error,
        "evaluations": [
            {"id": e["id"], "policy": e["policy"], "href": f"/v1/evaluations/{e['id']}"}
            for e in job.evaluations
        ],
    }


@router.get("/{job_id}", response_model=JobOut)
def read(svc: Svc, who: Caller, job_id: Annotated[int, Path(ge=1, le=2**62)]) -> Any:
    """A job: its state (queued, running, succeeded, failed), progress, the evaluations it
    stored (with links) or why it failed. A job whose service stopped reads as failed."""
    require_role(who, OVERSIGHT, "reading a job")
    return job_out(svc.jobs.get(job_id))
