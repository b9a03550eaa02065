"""Evaluations off the request path (issue 21, item 7): POST /v1/evaluations answers 202 with a
job at once, the service's worker runs it, and GET /v1/jobs/{id} shows its state, progress and
links to the evaluations it stored; a job whose service stopped reads as failed, with why."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import socialcredit.jobs.runner
from socialcredit.api import create_app
from socialcredit.errors import Conflict, InvalidInput
from socialcredit.jobs.runner import MAX_WAITING, STOPPED, STOPPED_WHILE_RUNNING
from socialcredit.jobs.store import SILENCE, create_job, start_job
from socialcredit.outcomes.runs import Progress
from socialcredit.store.schema import audit_log, jobs
from socialcredit.timeutil import now
from tests.api.conftest import World, scs

OPERATOR = "operator"


def post(world: World, body: dict[str, Any], caller: str = OPERATOR) -> Any:
    return world.client.post("/v1/evaluations", json=body, headers=world.headers(caller))


def job_count(world: World) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one())


def test_an_evaluation_is_a_job_that_links_to_what_it_stored(demo_copy: World) -> None:
    world = demo_copy
    seq = world.audit_seq()
    answer = post(world, {"policies": ["national", "sesame"]})
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert answer.headers["location"] == job["href"] == f"/v1/jobs/{job['id']}"
    # the answer did not wait for the evaluation
    assert job["state"] in ("queued", "running") and job["kind"] == "evaluation"
    assert job["progress"]["total"] == 2 and job["evaluations"] == []
    assert job["request"] == {"policies": ["national", "sesame"], "as_of": None}
    assert job["requested_by"] == world.actor(OPERATOR)
    done = world.finish(job)
    assert done["state"] == "succeeded" and done["error"] is None, done
    assert done["progress"] == {"done": 2, "total": 2, "step": "done"}
    assert done["started_at"] and done["finished_at"]
    assert [e["policy"] for e in done["evaluations"]] == ["national", "sesame"]
    for evaluation in done["evaluations"]:
        stored = world.client.get(evaluation["href"], headers=world.headers("auditor"))
        assert stored.status_code == 200, stored.text
        assert stored.json()["id"] == evaluation["id"]
        assert stored.json()["policy"] == evaluation["policy"]
        assert stored.json()["current"] is True
    logged = [(e.action, e.target, e.outcome) for e in world.audit_after(seq)]
    assert ("evaluation.request", f"job {job['id']}", "allowed") in logged
    for evaluation in done["evaluations"]:
        target = f"{evaluation['policy']} evaluation {evaluation['id']}"
        assert ("evaluation.run", target, "allowed") in logged


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"policies": ["no-such-policy"]}, 404, None),
        ({"as_of": "2999-01-01"}, 422, "as_of"),
        ({"as_of": "yesterday"}, 422, "as_of"),
        ({"policies": ["national"], "engine": "spark"}, 422, "body.engine"),
    ],
)
def test_bad_requests_are_refused_at_once_and_queue_nothing(
    demo: World, body: dict[str, Any], status: int, field: str | None
) -> None:
    before = job_count(demo)
    answer = post(demo, body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    if field is not None:
        assert field in [d["field"] for d in error["details"]]
    assert job_count(demo) == before


def test_an_unknown_job_or_evaluation_is_not_found(demo: World) -> None:
    for path in ("/v1/jobs/999999", "/v1/evaluations/999999"):
        answer = demo.client.get(path, headers=demo.headers(OPERATOR))
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def silent_job(world: World, silence: timedelta, state: str = "running") -> int:
    """A job as a service that stopped would leave it: `state`, last heard from `silence` ago."""
    with world.engine.begin() as conn:
        job_id = create_job(
            conn, "evaluation", {"policies": ["national"], "as_of": None}, "key:gone", "", "gone", 1
        )
        if state == "running":
            assert start_job(conn, job_id, "gone")
        conn.execute(
            sa.update(jobs).where(jobs.c.id == job_id).values(heartbeat_at=now() - silence)
        )
    return job_id


def read(world: World, job_id: int) -> dict[str, Any]:
    answer = world.client.get(f"/v1/jobs/{job_id}", headers=world.headers(OPERATOR))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize(
    "store", ["demo_copy", pytest.param("village_pg", marks=pytest.mark.postgres)]
)
def test_a_restart_shows_an_interrupted_job_as_failed(
    store: str, request: pytest.FixtureRequest
) -> None:
    world: World = request.getfixturevalue(store)
    running = silent_job(world, SILENCE + timedelta(seconds=5))
    queued = silent_job(world, SILENCE + timedelta(seconds=5), state="queued")
    alive = silent_job(world, timedelta(seconds=2))  # another server's, still beating
    try:
        create_app(world.settings, world.engine)  # the service starting again
        with world.engine.connect() as conn:
            states = dict(
                conn.execute(
                    sa.select(jobs.c.id, jobs.c.state).where(jobs.c.id.in_([running, queued]))
                ).all()
            )
        assert states == {running: "failed", queued: "failed"}  # before anyone asks
        for job_id in (running, queued):
            job = read(world, job_id)
            assert job["state"] == "failed" and job["finished_at"]
            assert job["error"].startswith("interrupted: the service running it stopped")
        assert read(world, alive)["state"] == "running"
    finally:
        with world.engine.begin() as conn:  # the shared PostgreSQL store: leave nothing waiting
            conn.execute(sa.update(jobs).where(jobs.c.id == alive).values(state="failed"))


class Blocked:
    """Stands in for `run_evaluations`: reports progress, then waits to be let go."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.go = threading.Event()
        self.failure = failure

    def __call__(self, *_: Any, progress: Progress, **__: Any) -> Any:
        progress("loading the record log")
        progress("evaluating national 2026.2")
        assert self.go.wait(60)
        if self.failure is not None:
            raise self.failure
        raise AssertionError("the test lets go only failing runs")


def wait_for(world: World, job_id: int, step: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (job := read(world, job_id))["progress"]["step"] != step:
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_progress_one_job_at_a_time_a_bounded_queue_and_stopping(
    demo_copy: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = demo_copy
    blocked = Blocked()
    monkeypatch.setattr(socialcredit.jobs.runner, "run_evaluations", blocked)
    first = post(world, {"policies": ["national"]}).json()
    job = wait_for(world, first["id"], "evaluating national 2026.2")  # written by the heartbeat
    assert job["state"] == "running" and job["progress"]["done"] == 0
    waiting = [post(world, {"policies": ["national"]}) for _ in range(MAX_WAITING - 1)]
    assert [w.status_code for w in waiting] == [202] * (MAX_WAITING - 1)
    assert {read(world, w.json()["id"])["state"] for w in waiting} == {"queued"}
    before = job_count(world)
    over = post(world, {"policies": ["national"]})
    assert over.status_code == 409 and "already queued or running" in over.text
    assert job_count(world) == before
    world.app.svc.jobs.close(wait=0.2)  # the service stops while one runs and others wait
    assert read(world, first["id"])["error"] == STOPPED_WHILE_RUNNING
    assert {read(world, w.json()["id"])["error"] for w in waiting} == {STOPPED}
    blocked.failure = InvalidInput("as-of", "late")
    blocked.go.set()  # the run ends after all: its job stays failed as interrupted
    deadline = time.monotonic() + 30
    while "recorded as interrupted" not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
    assert read(world, first["id"])["error"] == STOPPED_WHILE_RUNNING
    assert post(world, {"policies": ["national"]}).status_code == 409  # a stopping service


def test_a_failed_run_says_why(demo_copy: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world = demo_copy
    blocked = Blocked(InvalidInput("as-of", "2030-01-01T00:00:00Z is in the future"))
    monkeypatch.setattr(socialcredit.jobs.runner, "run_evaluations", blocked)
    seq = world.audit_seq()
    job = post(world, {"policies": ["national"]}).json()
    blocked.go.set()
    done = world.finish(job)
    assert done["state"] == "failed" and done["evaluations"] == []
    assert done["error"] == "as-of: 2030-01-01T00:00:00Z is in the future"
    with world.engine.connect() as conn:
        failed = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.outcome).where(
                audit_log.c.seq > seq, audit_log.c.target == f"job {job['id']}"
            )
        ).all()
    assert ("evaluation.run", "failed") in failed


def test_the_cli_still_evaluates_in_its_own_process(demo_copy: World) -> None:
    before = job_count(demo_copy)
    scs(demo_copy.settings, "evaluate", "--policy", "national")
    assert job_count(demo_copy) == before


def test_a_worker_spares_its_own_jobs_when_their_heartbeat_is_late(
    demo_copy: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On SQLite the heartbeat waits while an evaluation reads under the write lock: the
    service running the job knows it is alive; another service goes by the store."""
    world = demo_copy
    blocked = Blocked(InvalidInput("as-of", "late"))
    monkeypatch.setattr(socialcredit.jobs.runner, "run_evaluations", blocked)
    job = post(world, {"policies": ["national"]}).json()
    wait_for(world, job["id"], "evaluating national 2026.2")
    monkeypatch.setattr(socialcredit.jobs.runner, "HEARTBEAT", 3600.0)  # no further beats
    time.sleep(1.5)  # after the one already under way
    with world.engine.begin() as conn:
        late = now() - SILENCE - timedelta(seconds=5)
        conn.execute(sa.update(jobs).where(jobs.c.id == job["id"]).values(heartbeat_at=late))
    assert read(world, job["id"])["state"] == "running"
    other = TestClient(create_app(world.settings, world.engine))
    seen = other.get(job["href"], headers=world.headers(OPERATOR)).json()
    assert seen["state"] == "failed" and seen["error"].startswith("interrupted")
    blocked.go.set()
    deadline = time.monotonic() + 30
    while "recorded as interrupted" not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
    assert read(world, job["id"])["error"] == seen["error"]  # the late end changes nothing


@pytest.mark.parametrize(
    "store", ["demo_copy", pytest.param("village_pg", marks=pytest.mark.postgres)]
)
def test_requests_at_once_cannot_pass_the_bound_together(
    store: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    world: World = request.getfixturevalue(store)
    blocked = Blocked(InvalidInput("as-of", "let go"))
    monkeypatch.setattr(socialcredit.jobs.runner, "run_evaluations", blocked)
    who = world.app.svc.keys.resolve(world.keys[OPERATOR] or "")
    accepted: list[int] = []
    refused: list[str] = []

    def submit() -> None:
        try:
            accepted.append(world.app.svc.jobs.submit(who, "bound", ["national"], None).id)
        except Conflict as error:
            refused.append(error.message)

    threads = [threading.Thread(target=submit) for _ in range(2 * MAX_WAITING)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert len(accepted) == MAX_WAITING and len(refused) == MAX_WAITING
    finally:
        blocked.go.set()  # every job fails at once; nothing is left waiting in the store
        for job_id in accepted:
            world.finish({"state": "queued", "href": f"/v1/jobs/{job_id}"})
