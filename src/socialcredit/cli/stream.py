"""stream init, publish, run, rejects, status: records in real time on NATS JetStream."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli.common import counting, err, kv_table, out, state
from socialcredit.errors import InvalidInput
from socialcredit.stream.numbers import stream_numbers
from socialcredit.stream.publish import publish_file
from socialcredit.stream.rejects import list_rejects
from socialcredit.stream.setup import init_streams
from socialcredit.stream.worker import WorkerOptions, run_worker

stream_app = typer.Typer(
    help="Records in real time: publish to NATS JetStream, run the worker, list rejects.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(stream_app, name="stream")


@stream_app.command("init")
def init(
    ctx: typer.Context,
    duplicate_window: Annotated[
        float,
        typer.Option(help="Seconds in which the server drops a re-sent Nats-Msg-Id.", min=1),
    ] = 300.0,
    ack_wait: Annotated[
        float,
        typer.Option(help="Seconds before an un-acked message is delivered again.", min=1),
    ] = 30.0,
    replicas: Annotated[
        int, typer.Option(help="Copies of each stream in a NATS cluster (1 on one server).")
    ] = 1,
) -> None:
    """Create or update the streams SCS_RECORDS and SCS_REJECTS and the consumer scs-worker."""
    import asyncio

    settings = state(ctx).settings
    done = asyncio.run(
        init_streams(
            settings, duplicate_window=duplicate_window, ack_wait=ack_wait, replicas=replicas
        )
    )
    out.print(
        f"SCS_RECORDS {done.records}, SCS_REJECTS {done.rejects}, consumer scs-worker "
        f"{done.consumer} at {settings.nats_url} (NATS {done.durability.version})"
    )
    colour = "green" if done.durability.safe else "yellow"
    (out if done.durability.safe else err).print(f"[{colour}]fsync:[/] {done.durability.note}")


@stream_app.command("publish")
def publish(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV, JSON Lines or Parquet: record_id, subject, type, occurred_at, "
            "value[, supersedes, attrs]"
        ),
    ],
    source: Annotated[str, typer.Option(help="The registered source that sends the records.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: by extension).")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="At most this many records a second (default: no limit).")
    ] = None,
) -> None:
    """Publish a file's records to SCS_RECORDS, each acknowledged by the server."""
    watch = partial(counting, description=f"publishing {file.name}")
    result = publish_file(state(ctx).settings, file, source, fmt, rate, watch)
    out.print(f"[green]{result.summary()}[/] in {result.seconds:.1f} s")
    if result.unreadable:
        table = Table("line", "field", "reason", title="unreadable rows", title_justify="left")
        for rejection in result.unreadable[:20]:
            table.add_row(str(rejection.line), rejection.field, rejection.reason)
        err.print(table)
        raise typer.Exit(1)


@stream_app.command("run")
def run(
    ctx: typer.Context,
    batch: Annotated[
        int, typer.Option(help="At most this many records a micro-batch.", min=1)
    ] = 1000,
    wait: Annotated[
        float, typer.Option(help="Seconds a fetch waits for the first record.", min=0.01)
    ] = 1.0,
    linger: Annotated[
        float,
        typer.Option(
            help="After the first record, seconds to wait for more (fewer, larger batches "
            "when busy, at that much latency).",
            min=0,
        ),
    ] = 0.0,
    idle_exit: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds with nothing to do (default: never)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the final counts.")] = False,
) -> None:
    """The worker: accept each micro-batch, commit, refresh the outcomes, then ack."""
    s = state(ctx)
    engine = s.engine()
    say = None if quiet else (lambda line: err.print(line))
    totals = run_worker(
        engine,
        s.settings,
        WorkerOptions(batch=batch, wait=wait, linger=linger, idle_exit=idle_exit),
        say,
    )
    out.print(f"stopped after {totals.summary()} in {totals.seconds:.1f} s")


@stream_app.command("rejects")
def rejects(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Only this source's rejects.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    limit: Annotated[int, typer.Option(help="At most this many, oldest first.", min=1)] = 1000,
) -> None:
    """List the rejected records with their reasons (SCS_REJECTS)."""
    if fmt not in ("table", "json"):
        raise InvalidInput("format", f"{fmt!r} is not table or json")
    found = list_rejects(state(ctx).settings, source, limit)
    if fmt == "json":
        typer.echo(json.dumps([r.as_json() for r in found], ensure_ascii=False, indent=1))
        return
    table = Table("seq", "source", "record_id", "field", "reason", "received")
    for r in found:
        for number, (field, reason) in enumerate(r.reasons):
            first = number == 0
            table.add_row(
                str(r.seq) if first else "",
                r.source if first else "",
                (r.record_id or "-") if first else "",
                field,
                reason,
                r.received_at.isoformat() if first else "",
            )
    out.print(table)
    out.print(f"{len(found)} rejected records")


@stream_app.command("status")
def status(ctx: typer.Context) -> None:
    """The stream's and the worker's numbers: pending, ack pending, redelivered, rejects."""
    numbers = stream_numbers(state(ctx).settings)
    out.print(kv_table(numbers.rows()))
