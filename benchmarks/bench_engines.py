"""Benchmark: one policy over one generated lake, on each engine and network path.

    python benchmarks/bench_engines.py --lake DIR [--policy sesame] [--spark]

The lake comes from `scs generate` (its own registry, so the store is empty). Rows:

- duckdb, network in SciPy (the default below `SPARSE_EDGE_LIMIT` live edges);
- duckdb, network as joins (`sparse_edge_limit=0`), the out-of-core path;
- with --spark: Spark local[2] over the same files, network as joins.

Each prints wall time, the network stage's time, peak RSS of this process (Spark's JVM is a
separate process: its memory is not in it), and checks the outcomes are equal.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from socialcredit.engine import evaluate
from socialcredit.engine.data import Inputs
from socialcredit.lake.layout import Lake
from socialcredit.lake.read import lake_data
from socialcredit.lake.run import peak_memory
from socialcredit.policy.load import load_policy

PACKS = Path(__file__).parents[1] / "src" / "socialcredit" / "policy" / "packs"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--policy", default="sesame")
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--skip-duckdb", action="store_true")
    args = parser.parse_args()
    policy = load_policy((PACKS / f"{args.policy}.yaml").read_text()).policy
    empty = Inputs.from_rows()
    results = {}
    runs = []
    if not args.skip_duckdb:
        runs += [("duckdb scipy", None), ("duckdb joins", 0)]
    if args.spark:
        runs.append(("spark local[2]", -1))
    for name, limit in runs:
        start = time.perf_counter()
        if limit == -1:
            from socialcredit.engine.spark import spark_session
            from socialcredit.lake.spark import spark_lake_data

            data = spark_lake_data(spark_session(), str(args.lake.resolve()), empty)
        else:
            data = lake_data(Lake(args.lake), empty)
            if limit is not None:
                data.sparse_edge_limit = limit
        outcome = evaluate(data, policy, AS_OF)
        seconds = time.perf_counter() - start
        results[name] = outcome
        print(
            json.dumps(
                {
                    "engine": name,
                    "seconds": round(seconds, 2),
                    "stages": {k: round(v, 2) for k, v in outcome.timings.items()},
                    "scored": outcome.counts["scored"],
                    "records_counted": outcome.counts["records_counted"],
                    "peak_rss_gb": round(peak_memory() / 1e9, 2),
                }
            ),
            flush=True,
        )
    first = next(iter(results.values()))
    for name, outcome in results.items():
        same = all(
            getattr(outcome, t).equals(getattr(first, t)) for t in ("scores", "lists", "decisions")
        )
        print(f"{name}: outcomes equal to the first run: {same}")


if __name__ == "__main__":
    main()
