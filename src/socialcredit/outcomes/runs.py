"""Running evaluations against the store: load once, evaluate each policy, store each outcome.

This is the one path the CLI, the API and batch jobs use to evaluate and persist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import sqlalchemy as sa

from socialcredit.engine import EngineData, Inputs, Outcome, PlanData, evaluate
from socialcredit.engine.spark import SparkData, check_engine, spark_session
from socialcredit.errors import InvalidInput
from socialcredit.rights.notices import Pending, prepare_notices, save_notices
from socialcredit.settings import Settings
from socialcredit.store.db import STORE_LOCK, snapshot, writing
from socialcredit.store.evaluations import latest_evaluation_id, save_evaluation
from socialcredit.store.policies import StoredPolicy, latest_policies
from socialcredit.store.positions import LogPosition, log_position
from socialcredit.store.snapshot import load_inputs
from socialcredit.timeutil import format_instant, now

Progress = Callable[[str], None]


@dataclass
class RunResult:
    policy: StoredPolicy
    evaluation_id: int
    outcome: Outcome
    seconds: float
    notices: int = 0  # notices the run made (current runs only; see rights.notices)


@dataclass
class Run:
    as_of: datetime
    known_at: datetime
    results: list[RunResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # load, register, per policy


def _not_after(moment: datetime | None, instant: datetime, name: str) -> datetime | None:
    if moment is not None and moment > instant:
        raise InvalidInput(
            name,
            f"{format_instant(moment)} is in the future; a stored "
            "evaluation can only describe what is already known",
        )
    return moment


def run_evaluations(
    engine: sa.Engine,
    settings: Settings,
    names: list[str] | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    progress: Progress | None = None,
    engine_name: str = "duckdb",
    spark_master: str | None = None,
) -> Run:
    """Evaluate the policies in force (or `names`) and store every outcome.

    `engine_name` is duckdb (embedded) or spark (`spark_master`, default local mode): the same
    plan, the same outcomes.

    The store is read in one consistent snapshot. `known_at` defaults to the instant that
    snapshot is complete up to and is stored with each evaluation, so that every stored outcome
    can be reproduced exactly later; `as_of` defaults to the same instant. Neither may lie in
    the future: a stored evaluation describes what was known (projections are the simulator's).
    """
    say = progress or (lambda _: None)
    check_engine(engine_name, spark_master)
    with snapshot(engine) as (conn, instant):
        run = Run(
            as_of=_not_after(as_of, instant, "as-of") or instant,
            known_at=_not_after(known_at, instant, "known-at") or instant,
        )
        stored = latest_policies(conn, names)
        position = log_position(conn) if known_at is None else None
        say("loading the record log")
        clock = time.perf_counter()
        inputs = load_inputs(conn)
        run.timings["load"] = time.perf_counter() - clock
    clock = time.perf_counter()
    data = engine_data(inputs, settings, engine_name, spark_master)
    run.timings["register"] = time.perf_counter() - clock
    for policy in stored:
        say(f"evaluating {policy.name} {policy.version}")
        clock = time.perf_counter()
        begun = now()
        outcome = evaluate(data, policy.policy, run.as_of, run.known_at)
        pending = None
        if known_at is None:  # a current run: what changed since the one serving now
            clock_notices = time.perf_counter()
            with engine.connect() as conn:
                pending = prepare_notices(conn, data, outcome, now())
            outcome.timings["notices"] = time.perf_counter() - clock_notices
        clock_store = time.perf_counter()
        evaluation_id = store_outcome(
            engine,
            policy,
            outcome,
            run.known_at,
            known_at is None,
            begun,
            data.engine,
            pending,
            partial(_compare_again, data, outcome),
            position,
        )
        outcome.timings["store"] = time.perf_counter() - clock_store
        seconds = time.perf_counter() - clock
        run.timings[policy.name] = seconds
        made = len(pending.rows) if pending else 0
        run.results.append(RunResult(policy, evaluation_id, outcome, seconds, made))
    return run


def engine_data(
    inputs: Inputs, settings: Settings, engine_name: str, spark_master: str | None
) -> PlanData:
    """The inputs bound to the chosen engine."""
    if engine_name == "spark":
        return SparkData(inputs, spark_session(spark_master))
    return EngineData(
        inputs, threads=settings.duckdb_threads, memory_limit=settings.duckdb_memory_limit
    )


def _compare_again(
    data: PlanData, outcome: Outcome, conn: sa.Connection, stale: Pending
) -> Pending | None:
    return prepare_notices(conn, data, outcome, stale.created_at)


def store_outcome(
    engine: sa.Engine,
    policy: StoredPolicy,
    outcome: Outcome,
    known_at: datetime,
    current: bool,
    started_at: datetime,
    engine_name: str,
    pending: Pending | None = None,
    again: Callable[[sa.Connection, Pending], Pending | None] | None = None,
    position: LogPosition | None = None,
) -> int:
    """Store one evaluation's outcome, and the notices it makes, in a transaction of its own;
    returns its id. The notices were compared with the evaluation serving when they were made;
    when another run stored one since (the sweep beside `scs evaluate`), `again` compares anew
    under the store lock, so that no change is told twice."""
    with writing(engine, STORE_LOCK) as conn:
        if pending is not None and again is not None:
            serving = latest_evaluation_id(conn, policy.name)
            pending = pending if serving == pending.previous_evaluation_id else again(conn, pending)
        evaluation_id = save_evaluation(
            conn,
            policy,
            outcome,
            known_at=known_at,
            current=current,
            started_at=started_at,
            finished_at=now(),
            engine=engine_name,
            position=position if current else None,
        )
        if pending is not None:
            save_notices(conn, pending, evaluation_id)
        return evaluation_id
