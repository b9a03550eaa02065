"""The service's worker: runs queued jobs one at a time on a thread of its own.

One job at a time, because an evaluation already uses every core DuckDB is given and holds the
store's inputs in memory; a second would only share them. At most `MAX_WAITING` evaluation
jobs wait or run at once (across the store): more are refused with 409, so that no caller can
queue up unbounded work.

A second thread is the heartbeat: every `HEARTBEAT` seconds it writes that this worker is alive,
and the progress of its running job. Progress is kept in memory by the job's thread and
written only by the heartbeat, because on SQLite the job's thread cannot write while its own
evaluation reads the store under the write lock.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from socialcredit.audit.checkpoint import checkpoint_after
from socialcredit.audit.log import Entry, append_entries
from socialcredit.errors import Conflict, InvalidInput, SocialCreditError
from socialcredit.jobs.store import (
    JOBS_LOCK,
    Job,
    beat,
    create_job,
    fail_jobs,
    fail_silent,
    finish_job,
    get_job,
    start_job,
    unfinished_count,
)
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.settings import Settings
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import writing
from socialcredit.store.policies import latest_policies
from socialcredit.timeutil import format_instant, now

log = logging.getLogger("socialcredit.jobs")

HEARTBEAT = 1.0  # seconds between a worker's signs of life
MAX_WAITING = 4  # evaluation jobs queued or running at once, across the store
STOPPED = "interrupted: the service stopped before it started; run it again"
STOPPED_WHILE_RUNNING = (
    "interrupted: the service stopped while it ran; evaluations it had finished are stored; "
    "run it again"
)
INTERNAL = "internal error; it has been logged on the server"


@dataclass
class _Pending:
    job_id: int
    who: Principal
    purpose: str
    policies: list[str]
    as_of: datetime | None
    done: int = 0
    step: str = "waiting for the worker"
    running: bool = False


class JobRunner:
    def __init__(self, engine: sa.Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        # Which process runs a job: host, process id and a random part (a restarted process
        # may get the same id from the system, never the same random part).
        self.worker = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._mine: dict[int, _Pending] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        fail_silent(engine)  # jobs of a service that stopped: failed, with the reason

    def submit(
        self, who: Principal, purpose: str, policies: list[str] | None, as_of: datetime | None
    ) -> Job:
        """Validate an evaluation request, store its job queued and hand it to the worker.
        Bad input is refused here, before anything is stored."""
        if as_of is not None and as_of > now():
            raise InvalidInput(
                "as_of",
                f"{format_instant(as_of)} is in the future; a stored evaluation can only "
                "describe what is already known",
            )
        if self._stop.is_set():
            raise Conflict("the service is stopping; send the evaluation to another server")
        # Under a lock of its own (SQLite: one writer), so that two requests at once cannot
        # both see room for one more job.
        with writing(self.engine, JOBS_LOCK) as conn:
            names = [p.name for p in latest_policies(conn, policies)]  # NotFound names it
            waiting = unfinished_count(conn, "evaluation")
            if waiting >= MAX_WAITING:
                raise Conflict(
                    f"{waiting} evaluations are already queued or running (at most "
                    f"{MAX_WAITING}); wait for one to finish (GET /v1/jobs/{{id}})"
                )
            request = {"policies": names, "as_of": format_instant(as_of)}
            job_id = create_job(
                conn, "evaluation", request, who.name, purpose, self.worker, len(names)
            )
        # Logged before the worker can see it, so the log has the request before its runs.
        self.audit(who, "evaluation.request", f"job {job_id}", purpose, "allowed")
        pending = _Pending(job_id, who, purpose, names, as_of)
        with self._lock:
            self._mine[job_id] = pending
            self._start_threads()
        self._queue.put(pending)
        return self.get(job_id)

    def audit(self, who: Principal, action: str, target: str, purpose: str, outcome: str) -> None:
        entry = Entry.now(who.name, who.role, action, target, purpose, outcome)
        append_entries(self.engine, [entry])

    def get(self, job_id: int) -> Job:
        # This worker's own jobs are alive even when their heartbeat could not be written (on
        # SQLite it waits while a long evaluation reads the store under the write lock).
        with self._lock:
            mine = tuple(self._mine)
        fail_silent(self.engine, spare=mine)
        with self.engine.connect() as conn:
            return get_job(conn, job_id)

    def close(self, wait: float = 5.0) -> None:
        """Stop taking jobs; fail those that will not run; give the running one `wait`
        seconds, then record it as interrupted (its thread dies with the process)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(wait)
        with self._lock:
            left = dict(self._mine)
        with self.engine.begin() as conn:
            fail_jobs(conn, [i for i, p in left.items() if not p.running], STOPPED)
            fail_jobs(conn, [i for i, p in left.items() if p.running], STOPPED_WHILE_RUNNING)

    def _start_threads(self) -> None:
        if self._threads or self._stop.is_set():
            return
        for name, target in (("jobs", self._work), ("jobs-heartbeat", self._heartbeat)):
            thread = threading.Thread(target=target, name=f"scs-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                pending = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._run(pending)
            finally:
                with self._lock:
                    self._mine.pop(pending.job_id, None)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            with self._lock:
                progress = {i: (p.done, p.step) for i, p in self._mine.items() if p.running}
                idle = not self._mine
            if idle:
                continue
            try:
                with self.engine.begin() as conn:
                    beat(conn, self.worker, progress)
            except sa.exc.SQLAlchemyError:
                # The store is busy or away for a moment: the next beat tries again; a worker
                # silent for a minute is failed by whoever looks, which is the truth then.
                log.warning("job heartbeat failed; retrying", exc_info=True)

    def _run(self, pending: _Pending) -> None:
        with self.engine.begin() as conn:
            if not start_job(conn, pending.job_id, self.worker):
                return  # failed as silent while it waited
        pending.running = True
        started = 0

        def progress(step: str) -> None:
            nonlocal started
            if step.startswith("evaluating "):
                started += 1
            pending.done, pending.step = max(started - 1, 0), step

        error: str | None = None
        done: list[dict[str, object]] = []
        try:
            run = run_evaluations(
                self.engine, self.settings, pending.policies, as_of=pending.as_of, progress=progress
            )
            done = [{"id": r.evaluation_id, "policy": r.policy.name} for r in run.results]
        except SocialCreditError as failure:
            error = failure.message
        except Exception:
            log.exception("evaluation job %s failed", pending.job_id)
            error = INTERNAL
        # The audit entries first: whoever sees the job finished finds them in the log.
        for evaluation in done:
            target = f"{evaluation['policy']} evaluation {evaluation['id']}"
            self.audit(pending.who, "evaluation.run", target, pending.purpose, "allowed")
        if error:
            target = f"job {pending.job_id}"
            self.audit(pending.who, "evaluation.run", target, pending.purpose, "failed")
        if done:
            try:  # a new checkpoint after every evaluation (docs/security.md)
                checkpoint_after(self.engine, self.settings, "an evaluation")
            except Exception:  # a refused key file must not fail the job: the evaluation stands
                log.exception("no audit checkpoint signed after job %s", pending.job_id)
        with self.engine.begin() as conn:
            count = pending.done if error else len(done)
            recorded = finish_job(conn, pending.job_id, self.worker, error, done, count)
        if not recorded:
            log.warning("job %s finished after it was recorded as interrupted", pending.job_id)
