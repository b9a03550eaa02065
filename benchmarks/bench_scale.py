"""Benchmark at scale: the Sesame evaluation of a generated lake next to its peers, one run.

    make bench SIZE=small            # or: python benchmarks/bench_scale.py --size small
    make bench SIZE=medium BENCH_ARGS="--rows duckdb-groupby,scs-duckdb"
    make bench SIZE=medium BENCH_ARGS="--repeat 3"     # best of three rounds per row

The lake is generated once per size and seed with `scs generate` into benchmarks/work/<size>/
seed-<seed>/ (gitignored) and reused by later runs; generation is reported, not timed in the
rows. Every row then reads the same files, in its own process, so that its peak memory is its
own (the process tree is sampled, so Spark's row includes its JVM):

- duckdb-groupby: raw DuckDB `sum(value) GROUP BY sid` over the records (the rough upper bound);
- scs-duckdb: `engine.evaluate` of the sesame pack on DuckDB (every stage: categories, network,
  scores, percentiles, measures), its outcome tables written to Parquet;
- pandas, polars: the same scores by hand (`scale_peers.py`);
- scs-spark: `engine.evaluate` on PySpark local[2], scores written to Parquet.

Records/s is the lake's record count over the row's wall time. With `--repeat N` the rows run
in N rounds (every row once per round, so that a slow spell of the shared machine falls on all
of them alike), and each row keeps its fastest round and its largest peak; every round's time
is printed. `agrees`: the row scores the
same subjects as scs-duckdb, with equal scores, tiers and counted records, percentiles within
1e-12 and category values within 1e-6 (null for the group-by, which computes something else).
The table goes to stdout, the rows to benchmarks/results/<size>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scale_peers import Job, pandas_scores, polars_scores

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
WORK = HERE / "work"
PACK = HERE.parent / "src" / "socialcredit" / "policy" / "packs" / "sesame.yaml"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
TOLERANCE = 1e-6  # category values (S_c): the peers' exp differs from the engine's in the last bit
# Percentiles: Polars divides by a constant as a multiplication by its reciprocal (last bit).
PERCENTILE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Size:
    people: int
    orgs: int
    about: str


# About 9.25 records per person over two years (organizations' records included).
SIZES = {
    "small": Size(110_000, 6_000, "1 million records"),
    "medium": Size(5_400_000, 294_000, "50 million records"),
    "province": Size(100_000_000, 5_450_000, "100 million people, about 0.93 billion records"),
}
ROWS = {
    "duckdb-groupby": "raw DuckDB sum(value) GROUP BY sid",
    "scs-duckdb": "scs evaluate sesame, DuckDB (all stages)",
    "pandas": "pandas by hand (merge, groupby, unstack, rank)",
    "polars": "Polars lazy (scan_parquet, group_by, joins)",
    "scs-spark": "scs evaluate sesame, PySpark local[2]",
}
# At province size the in-memory peers cannot fit in this machine's 24 GB, and Spark local
# would take hours: by default only the DuckDB rows run there (--rows adds the others).
DEFAULT_ROWS = {"province": ["duckdb-groupby", "scs-duckdb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", help="comma-separated, of: " + ", ".join(ROWS))
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every row; each keeps its fastest"
    )
    parser.add_argument("--row", help=argparse.SUPPRESS)  # internal: run one row in this process
    parser.add_argument("--lake", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row:
        run_row(args.row, args.lake, args.out)
        return
    rows = args.rows.split(",") if args.rows else DEFAULT_ROWS.get(args.size, list(ROWS))
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    size = SIZES[args.size]
    folder = WORK / args.size / f"seed-{args.seed}"
    lake, records = generated_lake(folder, size, args.seed)
    check_peer_assumptions(lake)
    print(f"\n{args.size}: {records:,} records; each row in its own process, same files\n")
    rounds: dict[str, list[dict]] = {name: [] for name in rows}  # type: ignore[type-arg]
    for number in range(1, args.repeat + 1):
        for name in rows:
            label = f" (round {number} of {args.repeat})" if args.repeat > 1 else ""
            print(f"  running {name}{label} …", flush=True)
            rounds[name].append(measure(name, lake, folder / "out" / name, records))
    measured = [best(runs) for runs in rounds.values()]
    reference = folder / "out" / "scs-duckdb" / "scores.parquet"
    for row in measured:
        row["agrees"] = agreement(row, reference, folder)
    first = measured[0]["records_per_s"] or 1.0
    for row in measured:
        row["vs_first"] = round(row["records_per_s"] / first, 3) if row["records_per_s"] else None
    print_table(args.size, records, measured)
    RESULTS.mkdir(exist_ok=True)
    keys = ("name", "records_per_s", "peak_rss_mb", "vs_first", "agrees")
    out = RESULTS / f"{args.size}.json"
    out.write_text(json.dumps([{k: r[k] for k in keys} for r in measured], indent=2) + "\n")
    print(f"\nwrote {out}")


# --- the lake -------------------------------------------------------------------------------


def generated_lake(folder: Path, size: Size, seed: int) -> tuple[Path, int]:
    """The size's lake, generated on first use; the marker file is written only on success."""
    lake, marker = folder / "lake", folder / "generated.json"
    if marker.exists():
        done = json.loads(marker.read_text())
        print(f"reusing {lake} (generated in {done['seconds']:.0f} s)")
        return lake, done["records"]
    if folder.exists():
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    folder.mkdir(parents=True)
    scs = Path(sys.executable).parent / "scs"
    command = [str(scs), "generate", "--people", str(size.people), "--orgs", str(size.orgs)]
    command += ["--seed", str(seed), "--lake", str(lake)]
    print(f"generating {size.about}: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, env=os.environ | {"SCS_HOME": str(folder / "home")})
    seconds = time.perf_counter() - start
    records = count_records(lake)
    marker.write_text(json.dumps({"seconds": round(seconds, 1), "records": records}) + "\n")
    print(f"generated {records:,} records in {seconds:.0f} s (not part of any row)")
    return lake, records


def count_records(lake: Path) -> int:
    import pyarrow.dataset as ds

    return int(ds.dataset(lake / "records", format="parquet", partitioning="hive").count_rows())


def check_peer_assumptions(lake: Path) -> None:
    """The peers skip corrections and edge versions; a generated lake has neither."""
    import duckdb

    records = f"read_parquet('{lake}/records/*/*/*.parquet', hive_partitioning = true)"
    edges = f"read_parquet('{lake}/relationships/*.parquet')"
    con = duckdb.connect()
    corrections = con.execute(f"SELECT count(supersedes) FROM {records}").fetchone()
    versions = con.execute(
        f"SELECT count(*) - count(DISTINCT (src, dst, kind, valid_from)) FROM {edges}"
    ).fetchone()
    con.close()
    assert corrections == (0,), f"the lake has corrections: {corrections}"
    assert versions == (0,), f"the lake has re-imported edge versions: {versions}"


# --- one row, in its own process --------------------------------------------------------------


def measure(name: str, lake: Path, out: Path, records: int) -> dict:  # type: ignore[type-arg]
    """Run one row in a child process; sample the RSS of its process tree every 50 ms."""
    import psutil

    command = [sys.executable, __file__, "--row", name, "--lake", str(lake), "--out", str(out)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    tree = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        total = 0
        try:
            for process in [tree, *tree.children(recursive=True)]:
                total += process.memory_info().rss
        except psutil.Error:  # a process of the tree ended while it was read: sample again
            continue
        peak = max(peak, total)
        time.sleep(0.05)
    output = child.stdout.read() if child.stdout else ""
    if child.returncode:
        print(f"    {name} failed (exit {child.returncode})")
        return {"name": name, "records_per_s": None, "peak_rss_mb": round(peak / 2**20)}
    report = json.loads(output.strip().splitlines()[-1])
    peak = max(peak, report["maxrss"])
    return {
        "name": name,
        "seconds": report["seconds"],
        "subjects": report["subjects"],
        "records_per_s": round(records / report["seconds"]),
        "peak_rss_mb": round(peak / 2**20),
        "out": str(out),
    }


def best(runs: list[dict]) -> dict:  # type: ignore[type-arg]
    """A row's fastest round, with the largest peak of all its rounds (a failed round fails
    the row: its outputs are the last round's)."""
    peak = max(run["peak_rss_mb"] for run in runs)
    if any(run["records_per_s"] is None for run in runs):
        return {"name": runs[0]["name"], "records_per_s": None, "peak_rss_mb": peak}
    fastest = min(runs, key=lambda run: run["seconds"])
    rounds = [round(run["seconds"], 1) for run in runs]
    return fastest | {"peak_rss_mb": peak, "rounds": rounds}


def run_row(name: str, lake: Path, out: Path) -> None:
    """The child: do the row's work, print {seconds, subjects, maxrss} as the last line."""
    from socialcredit.policy.load import load_policy

    policy = load_policy(PACK.read_text()).policy
    out.mkdir(parents=True, exist_ok=True)
    job = Job(lake, policy, AS_OF, out / "scores.parquet")
    start = time.perf_counter()
    if name == "duckdb-groupby":
        subjects = duckdb_groupby(job)
    elif name == "scs-duckdb":
        subjects = scs_evaluate(job, spark=False)
    elif name == "scs-spark":
        subjects = scs_evaluate(job, spark=True)
    elif name == "pandas":
        subjects = pandas_scores(job)
    elif name == "polars":
        subjects = polars_scores(job)
    else:
        raise SystemExit(f"unknown row {name}")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "subjects": subjects, "maxrss": own_peak_rss()}))


def own_peak_rss() -> int:
    """This process's peak resident bytes since it started, its parent's not included.

    Not `ru_maxrss` alone: on Linux a process started by subprocess (vfork, then exec) begins
    with its parent's high-water mark, and this parent's check of the lake (a DuckDB distinct
    count over every edge) peaks at DuckDB's default limit, 19.7 GB at province size: every
    row then reported that, whatever it used. /proc's VmHWM is this process's own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def duckdb_groupby(job: Job) -> int:
    import duckdb

    records = f"read_parquet('{job.lake}/records/*/*/*.parquet', hive_partitioning = true)"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT sid, sum(value) AS total FROM {records} GROUP BY sid) "
        f"TO '{job.out}' (FORMAT parquet)"
    )
    return int(con.execute(f"SELECT count(*) FROM '{job.out}'").fetchone()[0])  # type: ignore[index]


def scs_evaluate(job: Job, spark: bool) -> int:
    """The project's evaluation of the pack over the lake, its outcomes written to Parquet."""
    from socialcredit.engine import evaluate
    from socialcredit.engine.data import Inputs
    from socialcredit.lake.layout import Lake
    from socialcredit.lake.read import lake_data

    if spark:
        from socialcredit.engine.spark import spark_session
        from socialcredit.lake.spark import spark_lake_data

        # The outcome tables are collected to the driver (docs/scale.md, "Spark"): local
        # mode's default 2 GB heap ran out at medium size, 6 GB holds them (about 100 bytes
        # per scored subject). SCS_BENCH_SPARK_MEMORY overrides it.
        memory = os.environ.get("SCS_BENCH_SPARK_MEMORY", "6g")
        session = spark_session(config={"spark.driver.memory": memory})
        data = spark_lake_data(session, str(job.lake), Inputs.from_rows())
    else:
        data = lake_data(Lake(job.lake), Inputs.from_rows())
    # As `scs evaluate --lake` does: the outcome tables streamed into their files.
    outcome = evaluate(data, job.policy, job.as_of, write_to=job.out.parent)
    stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in outcome.timings.items())
    print(f"    stages (s): {stages}", file=sys.stderr, flush=True)  # stdout is the report's
    return int(outcome.counts["scored"])


# --- agreement and the table ------------------------------------------------------------------


def agreement(row: dict, reference: Path, folder: Path) -> bool | None:  # type: ignore[type-arg]
    """Whether the row's scores are the reference's, subject by subject (None: not comparable)."""
    if row["name"] == "duckdb-groupby" or row.get("records_per_s") is None:
        return None
    if not reference.exists():
        return None
    if Path(row["out"]) == reference.parent:
        # The reference itself. Not read: at province size its 84 million rows, read twice
        # and sorted, took the benchmark past the machine's memory (killed after the row).
        return True
    import numpy as np
    import pyarrow.parquet as pq

    ours = pq.read_table(reference).sort_by("sid")
    theirs = pq.read_table(Path(row["out"]) / "scores.parquet").sort_by("sid")
    problems = []
    if ours.num_rows != theirs.num_rows:
        problems.append(f"{theirs.num_rows:,} subjects, not {ours.num_rows:,}")
    else:
        for column in ("sid", "score", "tier", "records"):
            if not ours[column].equals(theirs[column].cast(ours[column].type)):
                problems.append(f"{column} differs")
        a = ours["percentile"].to_numpy()
        b = theirs["percentile"].to_numpy()
        if len(a) and float(np.max(np.abs(a - b))) > PERCENTILE_TOLERANCE:
            problems.append("percentile differs")
        worst = 0.0
        for column in ours.column_names[7:]:
            a = ours[column].to_numpy(zero_copy_only=False)
            b = theirs[column].to_numpy(zero_copy_only=False)
            worst = max(worst, float(np.max(np.abs(a - b))) if len(a) else 0.0)
        row["category_diff"] = worst
        if worst > TOLERANCE:
            problems.append(f"category values differ by up to {worst:.2g}")
    if problems:
        print(f"    {row['name']} disagrees with scs-duckdb: {'; '.join(problems)}")
    return not problems


def print_table(size: str, records: int, rows: list[dict]) -> None:  # type: ignore[type-arg]
    print(f"\n{size}: {records:,} records, policy sesame, as of {AS_OF:%Y-%m-%d}")
    print(
        f"{'row':<50} {'seconds':>8} {'records/s':>12} {'peak RSS MB':>12} "
        f"{'vs first':>9} {'agrees':>7}"
    )
    for row in rows:
        seconds = f"{row['seconds']:.1f}" if row.get("seconds") else "failed"
        rate = f"{row['records_per_s']:,}" if row["records_per_s"] else "-"
        ratio = f"{row['vs_first']:.3f}" if row["vs_first"] else "-"
        agrees = {None: "-", True: "yes", False: "NO"}[row["agrees"]]
        print(
            f"{ROWS[row['name']]:<50} {seconds:>8} {rate:>12} {row['peak_rss_mb']:>12,} "
            f"{ratio:>9} {agrees:>7}"
        )
    for row in rows:
        if len(row.get("rounds", [])) > 1:
            times = ", ".join(f"{t:.1f}" for t in row["rounds"])
            print(f"  {row['name']}: rounds {times} s (the fastest is in the table)")
    targets(size, rows)


def targets(size: str, rows: list[dict]) -> None:  # type: ignore[type-arg]
    by = {r["name"]: r for r in rows}
    ours = by.get("scs-duckdb", {}).get("records_per_s")
    if not ours:
        return
    raw = by.get("duckdb-groupby", {}).get("records_per_s")
    pandas = by.get("pandas", {}).get("records_per_s")
    label = "target" if size == "medium" else f"target (set for medium; here {size})"
    if raw:
        verdict = "met" if ours >= 0.5 * raw else "not met"
        print(f"{label}: scs-duckdb >= 0.5x the group-by: {verdict} ({ours / raw:.2f}x)")
    if pandas:
        verdict = "met" if ours >= 5 * pandas else "not met"
        print(f"{label}: scs-duckdb >= 5x pandas: {verdict} ({ours / pandas:.1f}x)")
    if size == "province":
        row = by["scs-duckdb"]
        fast = "met" if row["seconds"] < 900 else "not met"
        small = "met" if row["peak_rss_mb"] < 16 * 1024 else "not met"
        print(f"target: under 15 minutes: {fast} ({row['seconds'] / 60:.1f} min)")
        print(f"target: peak RSS under 16 GB: {small} ({row['peak_rss_mb'] / 1024:.1f} GB)")


if __name__ == "__main__":
    main()
