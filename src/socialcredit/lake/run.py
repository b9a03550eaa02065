"""Evaluating the lake: the one `evaluate` over the lake's files and the store's tables, with
the outcomes written to Parquet (and, on request, stored in the SQL store).

    OUT/<policy>/scores.parquet      sid, score, tier, percentile, ceiling, uncapped, records,
                                     one column per category
    OUT/<policy>/lists.parquet       list, sid, since_us, until_us
    OUT/<policy>/decisions.parquet   measure, kind, authority, sid, cause_sid, since_us, reasons
    OUT/<policy>/evaluation.json     policy, version, digest, as_of, known_at, counts, timings,
                                     peak memory per stage, distribution
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from socialcredit.atomic import write_atomic
from socialcredit.engine import EngineData, Outcome, PlanData, evaluate
from socialcredit.engine.spark import check_engine, spark_session
from socialcredit.errors import InvalidInput
from socialcredit.lake.layout import Lake
from socialcredit.lake.read import lake_data, spill_guard
from socialcredit.lake.spark import spark_lake_data
from socialcredit.outcomes.runs import store_outcome
from socialcredit.settings import Settings
from socialcredit.store.db import snapshot
from socialcredit.store.policies import StoredPolicy, latest_policies
from socialcredit.store.snapshot import load_inputs
from socialcredit.timeutil import format_instant, now

Progress = Callable[[str], None]


def peak_memory() -> int:
    """Peak resident memory of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class LakeResult:
    policy: StoredPolicy
    outcome: Outcome
    folder: Path
    seconds: float
    evaluation_id: int | None = None


@dataclass
class LakeRun:
    as_of: datetime
    known_at: datetime
    results: list[LakeResult] = field(default_factory=list)
    stages: list[tuple[str, float, int]] = field(default_factory=list)  # name, seconds, peak

    def stage(self, name: str, started: float) -> None:
        self.stages.append((name, time.perf_counter() - started, peak_memory()))


def run_lake_evaluations(
    engine: sa.Engine,
    settings: Settings,
    lake: Lake | str,
    out: Path,
    names: list[str] | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    store: bool = False,
    progress: Progress | None = None,
    engine_name: str = "duckdb",
    spark_master: str | None = None,
) -> LakeRun:
    """Evaluate the policies in force (or `names`) over the lake and the store; write each
    outcome to OUT/<policy>/, and with `store` also save it as a stored evaluation.

    `lake` is a folder, or with `engine_name` spark also a URL Spark reads (s3a://…).
    """
    say = progress or (lambda _: None)
    check_engine(engine_name, spark_master)
    if out.exists() and not out.is_dir():
        raise InvalidInput("out", f"{out} is a file; outcomes go to a folder")
    if isinstance(lake, str) and engine_name != "spark":
        raise InvalidInput("lake", f"{lake}: only the Spark engine reads a lake at a URL")
    if store and isinstance(lake, str):
        raise InvalidInput("store", "the outcomes of a lake at a URL are written to Parquet only")
    if store and isinstance(lake, Lake) and lake.files("subjects"):
        raise InvalidInput(
            "store",
            "the lake has its own registry, whose subjects the store does not hold; "
            "its outcomes can only be written to Parquet",
        )
    with snapshot(engine) as (conn, instant):
        for moment, name in ((as_of, "as-of"), (known_at, "known-at")):
            if moment is not None and moment > instant:
                raise InvalidInput(name, f"{format_instant(moment)} is in the future")
        run = LakeRun(as_of=as_of or instant, known_at=known_at or instant)
        stored = latest_policies(conn, names)
        say("loading the store")
        clock = time.perf_counter()
        inputs = load_inputs(conn)
    run.stage("load store", clock)
    clock = time.perf_counter()
    data: PlanData
    if engine_name == "spark":
        root = lake if isinstance(lake, str) else str(lake.root.resolve())
        data = spark_lake_data(spark_session(spark_master), root, inputs)
    else:
        assert isinstance(lake, Lake)
        data = lake_data(
            lake,
            inputs,
            threads=settings.duckdb_threads,
            memory_limit=settings.duckdb_memory_limit,
            spill_limit=settings.duckdb_spill_limit,
        )
    run.stage("open lake", clock)
    for policy in stored:
        say(f"evaluating {policy.name} {policy.version} over the lake")
        clock = time.perf_counter()
        begun = now()
        folder = out / policy.name
        # Without --store the engine writes the outcome tables into their files itself, so
        # that memory does not grow with the population; storing them needs them in memory
        # anyway.
        with spill_guard(data) if isinstance(data, EngineData) else nullcontext():
            outcome = evaluate(
                data, policy.policy, run.as_of, run.known_at, write_to=None if store else folder
            )
        run.stage(f"{policy.name}: evaluate", clock)
        written = time.perf_counter()
        write_outcome(outcome, folder, run)
        run.stage(f"{policy.name}: write", written)
        result = LakeResult(policy, outcome, folder, 0.0)
        if store:
            saved = time.perf_counter()
            result.evaluation_id = store_outcome(
                engine, policy, outcome, run.known_at, known_at is None, begun, data.engine
            )
            run.stage(f"{policy.name}: store", saved)
        result.seconds = time.perf_counter() - clock
        run.results.append(result)
    return run


def write_outcome(outcome: Outcome, folder: Path, run: LakeRun) -> None:
    """The outcome tables (unless evaluate had the engine write them there) and
    evaluation.json."""
    if outcome.written_to is None:
        for name in ("scores", "lists", "decisions"):
            write_atomic(getattr(outcome, name), folder / f"{name}.parquet")
    folder.mkdir(parents=True, exist_ok=True)
    summary = {
        "policy": outcome.policy.policy,
        "version": outcome.policy.version,
        "digest": outcome.digest,
        "as_of": format_instant(run.as_of),
        "known_at": format_instant(run.known_at),
        "counts": outcome.counts,
        "timings": outcome.timings,
        "peak_memory": outcome.memory,
        "distribution": outcome.distribution,
    }
    text = json.dumps(summary, indent=2, sort_keys=True)
    temporary = folder / ".evaluation.json.tmp"
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(folder / "evaluation.json")
