"""generate (a national-scale population into the lake), lake show, lake purge; and the
printing of `scs evaluate --lake`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import pyarrow.parquet as pq
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from socialcredit.cli.common import err, instant_option, out, state
from socialcredit.lake.layout import TABLES, open_lake
from socialcredit.lake.retention import purge_partitions
from socialcredit.lake.run import LakeRun, peak_memory
from socialcredit.simulate.scale.generate import ScaleConfig, generate_lake
from socialcredit.simulate.scale.people import BLOCK
from socialcredit.store.policies import latest_policies
from socialcredit.timeutil import format_instant, now

lake_app = typer.Typer(help="Inspect the record lake and apply retention.", no_args_is_help=True)
LakeOption = Annotated[
    Path | None, typer.Option("--lake", help="Lake folder (default: SCS_HOME/lake).")
]


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
    app.add_typer(lake_app, name="lake")


def generate_command(
    ctx: typer.Context,
    people: Annotated[int, typer.Option(min=1, help="People.")] = 100_000,
    orgs: Annotated[int, typer.Option(min=0, help="Organizations.")] = 10_000,
    years: Annotated[int, typer.Option(min=1, max=50, help="Years of records.")] = 2,
    seed: Annotated[int, typer.Option(help="Same seed, same population, same records.")] = 7,
    until: Annotated[
        str, typer.Option(help="The last day of the simulated years (YYYY-MM-DD).")
    ] = "2026-11-01",
    chunk: Annotated[
        int,
        typer.Option(help=f"People built in memory at once (a multiple of {BLOCK:,})."),
    ] = 32 * BLOCK,
    lake: LakeOption = None,
) -> None:
    """Generate a synthetic population (registry and records) straight into the lake."""
    target = open_lake(lake, state(ctx).settings)
    config = ScaleConfig(people, orgs, years, seed, _day(until), chunk)
    columns = [
        TextColumn("generating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} people, {task.fields[records]:,} records"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("generating", total=people, records=0)
        done = generate_lake(
            config,
            target,
            progress=lambda n, records: bar.update(task, completed=n, records=records),
        )
    out.print(
        f"{done.people:,} people, {done.orgs:,} organizations, {done.relationships:,} "
        f"relationships, {done.records:,} records in {done.files:,} files at {target.root} "
        f"(seed {seed}); peak memory {peak_memory() / 2**30:.2f} GiB"
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--until"
        ) from None


@lake_app.command("show")
def lake_show(ctx: typer.Context, lake: LakeOption = None) -> None:
    """Files, rows and bytes of each lake table, and the record partitions."""
    target = open_lake(lake, state(ctx).settings, must_exist=True)
    table = Table("table", "files", "rows", "bytes")
    for name in TABLES:
        files = target.files(name)
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        size = sum(f.stat().st_size for f in files)
        table.add_row(name, f"{len(files):,}", f"{rows:,}", f"{size:,}")
    out.print(table)
    parts = target.partitions()
    if parts:
        first, last = parts[0], parts[-1]
        out.print(
            f"{len(parts)} record partitions, {first[0]}-{first[1]:02d} to {last[0]}-{last[1]:02d}"
        )


@lake_app.command("purge")
def lake_purge(
    ctx: typer.Context,
    lake: LakeOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO 8601 instant (default: now).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
) -> None:
    """Delete the record partitions older than the longest horizon of every policy in force."""
    s = state(ctx)
    target = open_lake(lake, s.settings, must_exist=True)
    with s.engine().connect() as conn:
        policies = [p.policy for p in latest_policies(conn, None)]
    moment = instant_option(as_of, "as-of") or now()
    purge = purge_partitions(target, policies, moment, dry_run)
    verb = "would purge" if dry_run else "purged"
    out.print(
        f"horizon {purge.horizon_days} days: {verb} {len(purge.purged)} partitions of records "
        f"that occurred before {format_instant(purge.cutoff)}; kept {purge.kept}"
    )
    for folder in purge.purged:
        out.print(f"  {folder.parent.name}/{folder.name}")


def print_lake_run(run: LakeRun) -> None:
    out.print(
        f"as of {format_instant(run.as_of)}, known at {format_instant(run.known_at)}; "
        "evaluated the lake with the store"
    )
    table = Table("policy", "scored", "records counted", "listed", "decisions", "seconds", "out")
    for r in run.results:
        c = r.outcome.counts
        table.add_row(
            r.policy.name,
            f"{c['scored']:,}",
            f"{c['records_counted']:,}",
            f"{c['listed']:,}",
            f"{c['decisions']:,}",
            f"{r.seconds:.2f}",
            str(r.folder) + (f" (evaluation {r.evaluation_id})" if r.evaluation_id else ""),
        )
    out.print(table)
    stages = Table("stage", "seconds", "peak memory GiB", title="time and memory per stage")
    for name, seconds, peak in run.stages:
        stages.add_row(name, f"{seconds:.2f}", f"{peak / 2**30:.2f}")
        policy = name.removesuffix(": evaluate")
        result = next((r for r in run.results if r.policy.name == policy), None)
        if result is not None and name.endswith(": evaluate"):
            for stage, spent in result.outcome.timings.items():
                memory = result.outcome.memory.get(stage, 0)
                stages.add_row(f"  {stage}", f"{spent:.2f}", f"{memory / 2**30:.2f}")
    out.print(stages)
