"""Benchmark: one real-time refresh (`outcomes.refresh.catch_up`) on the demo city, per stage.

Posts micro-batches of records through the same path as `POST /v1/records` (`ingest_batch`),
then times the refresh that brings every current evaluation up to them: 1 record, then 100
records of 100 people, each `--repeat` times, on a copy of a demo store (the store is built
once by `scs demo --no-serve` and reused):

    SCS_HOME=/tmp/rt-demo scs demo --no-serve
    python benchmarks/bench_refresh.py --store /tmp/rt-demo/scs.db

Prints each refresh's stages summed over the policies (the registry read, the changes, the
affected set, the records, evaluate, the comparison behind the notices, the write) and each
policy's seconds. Not a timed test: the machine is shared, so the numbers are for reading.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from socialcredit.ingest.batch import ingest_batch
from socialcredit.outcomes.live_data import LiveData
from socialcredit.outcomes.refresh import catch_up
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.schema import identifiers

TYPES = [
    ("court", "court.dishonest.refuses_to_perform", None),
    ("bank", "finance.payment.late", 12.0),
    ("bank", "finance.repayment.on_time", None),
    ("platform", "commerce.order.completed", None),
    ("police", "traffic.violation.minor", None),
]


def people(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        query = sa.select(identifiers.c.identifier).where(
            identifiers.c.ordinal == 0, identifiers.c.identifier.like("cn-rid:%")
        )
        return sorted(conn.execute(query).scalars())


def post(engine: sa.Engine, chosen: list[str], tag: str) -> None:
    by_source: dict[str, list[dict[str, object]]] = {}
    for i, subject in enumerate(chosen):
        source, kind, value = TYPES[i % len(TYPES)]
        row: dict[str, object] = {
            "record_id": f"bench-{tag}-{i}",
            "subject": subject,
            "type": kind,
            "occurred_at": "2026-10-30",
        }
        if value is not None:
            row["value"] = value
        by_source.setdefault(source, []).append(row)
    for source, rows in by_source.items():
        report = ingest_batch(engine, source, rows)
        assert report.accepted == len(rows), report.rejected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/rt-demo/scs.db"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,100")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "scs-data"
        home.mkdir()
        shutil.copy(args.store, home / "scs.db")
        settings = Settings(home=home)
        engine = create_engine(settings)
        cache = LiveData(settings)
        clock = time.perf_counter()
        first = catch_up(engine, settings, data_cache=cache)
        seconds = time.perf_counter() - clock
        print(f"first call (registry and record log read whole): {seconds:.2f} s, {first}")
        everyone = people(engine)
        rng = random.Random(7)
        for size in (int(s) for s in args.sizes.split(",")):
            totals = []
            for round_ in range(args.repeat):
                post(engine, rng.sample(everyone, size), f"{size}-{round_}")
                clock = time.perf_counter()
                done = catch_up(engine, settings, data_cache=cache)
                seconds = time.perf_counter() - clock
                totals.append(seconds)
                assert done is not None
                stages = ", ".join(f"{k} {v:.3f}" for k, v in done.timings.items())
                policies = ", ".join(
                    f"{r.policy} {r.seconds:.3f} s ({r.subjects} subjects)" for r in done.refreshed
                )
                print(f"{size} records: {seconds:.3f} s; stages: {stages}; {policies}")
            print(f"{size} records: median {statistics.median(totals):.3f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
