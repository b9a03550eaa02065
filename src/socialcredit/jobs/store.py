"""Jobs in the store: created queued, run by one worker, finished succeeded or failed.

    queued ──▶ running ──▶ succeeded
       │          │
       └──────────┴──────▶ failed (an error; the service stopped; its worker fell silent)

A worker shows it is alive by moving `heartbeat_at` (see `runner`); `fail_silent` marks failed
every unfinished job whose worker has not done so for `SILENCE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialcredit.errors import NotFound
from socialcredit.store.schema import jobs
from socialcredit.timeutil import now

JOBS_LOCK = 0x5C5_10B5  # PostgreSQL advisory lock: orders the "is there room?" of submits
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
UNFINISHED = (QUEUED, RUNNING)
# A worker moves its jobs' heartbeat every second or so; SQLite may hold that write back while
# an evaluation reads the store under its lock (seconds on the 50,000-person demo). A minute of
# silence means the worker is gone.
SILENCE = timedelta(seconds=60)
SILENT = (
    "interrupted: the service running it stopped before it finished (no sign of life for "
    f"{int(SILENCE.total_seconds())} s); evaluations it had finished are stored; run it again"
)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    state: str
    request: dict[str, Any]
    requested_by: str
    done: int
    total: int
    step: str
    evaluations: list[dict[str, Any]]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        state=row.state,
        request=dict(row.request),
        requested_by=row.requested_by,
        done=row.done,
        total=row.total,
        step=row.step,
        evaluations=list(row.evaluations),
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def create_job(
    conn: sa.Connection,
    kind: str,
    request: dict[str, Any],
    requested_by: str,
    purpose: str,
    worker: str,
    total: int,
) -> int:
    moment = now()
    return int(
        conn.execute(
            jobs.insert()
            .values(
                kind=kind,
                state=QUEUED,
                request=request,
                requested_by=requested_by[:200],
                purpose=purpose[:300],
                worker=worker,
                heartbeat_at=moment,
                done=0,
                total=total,
                step="waiting for the worker",
                evaluations=[],
                created_at=moment,
            )
            .returning(jobs.c.id)
        ).scalar_one()
    )


def get_job(conn: sa.Connection, job_id: int) -> Job:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound(f"no job {job_id}")
    return _job(row)


def start_job(conn: sa.Connection, job_id: int, worker: str) -> bool:
    """queued → running; False when the job is no longer this worker's to run."""
    moment = now()
    started = conn.execute(
        sa.update(jobs)
        .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.state == QUEUED)
        .values(state=RUNNING, started_at=moment, heartbeat_at=moment, step="starting")
    )
    return started.rowcount > 0


def beat(conn: sa.Connection, worker: str, progress: dict[int, tuple[int, str]]) -> None:
    """A worker's sign of life for its unfinished jobs, with each running job's progress."""
    moment = now()
    conn.execute(
        sa.update(jobs)
        .where(jobs.c.worker == worker, jobs.c.state.in_(UNFINISHED))
        .values(heartbeat_at=moment)
    )
    for job_id, (done, step) in progress.items():
        conn.execute(
            sa.update(jobs)
            .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.state == RUNNING)
            .values(done=done, step=step[:200])
        )


def finish_job(
    conn: sa.Connection,
    job_id: int,
    worker: str,
    error: str | None,
    evaluations: list[dict[str, Any]],
    done: int,
) -> bool:
    """running → succeeded (no error) or failed; False when the job was already failed as
    interrupted (its worker was silent too long, or the service was stopping)."""
    finished = conn.execute(
        sa.update(jobs)
        .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.state == RUNNING)
        .values(
            state=FAILED if error else SUCCEEDED,
            error=error[:1000] if error else None,
            evaluations=evaluations,
            done=done,
            step="failed" if error else "done",
            finished_at=now(),
        )
    )
    return finished.rowcount > 0


def fail_jobs(conn: sa.Connection, job_ids: list[int], reason: str) -> None:
    """Fail unfinished jobs with a reason (a stopping service fails those it will not run)."""
    if job_ids:
        conn.execute(
            sa.update(jobs)
            .where(jobs.c.id.in_(job_ids), jobs.c.state.in_(UNFINISHED))
            .values(state=FAILED, error=reason[:1000], step="failed", finished_at=now())
        )


def fail_silent(engine: sa.Engine, spare: tuple[int, ...] = ()) -> int:
    """Fail every unfinished job whose worker has been silent for `SILENCE`, except `spare`
    (the caller's own, which it knows are alive); how many. It looks first and writes only
    when it found some, in a transaction that starts with the write (so that reading a job
    neither waits for the store's write lock nor, on SQLite, fails for another's write)."""
    moment = now()
    silent = sa.and_(
        jobs.c.state.in_(UNFINISHED),
        jobs.c.heartbeat_at < moment - SILENCE,
        jobs.c.id.not_in(spare),
    )
    with engine.connect() as conn:
        found = list(conn.execute(sa.select(jobs.c.id).where(silent)).scalars())
    if found:
        with engine.begin() as conn:
            conn.execute(
                sa.update(jobs)
                .where(jobs.c.id.in_(found), silent)
                .values(state=FAILED, error=SILENT, step="failed", finished_at=moment)
            )
    return len(found)


def unfinished_count(conn: sa.Connection, kind: str) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(jobs.c.kind == kind, jobs.c.state.in_(UNFINISHED))
        ).scalar_one()
    )
