"""`scs refresh`: bring the current evaluations up to the end of the log now."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from socialcredit.cli.common import out, state
from socialcredit.outcomes.refresh import CatchUp, catch_up
from socialcredit.outcomes.rerank import rerank


def refresh_command(
    ctx: typer.Context,
    rerank_percentiles: Annotated[
        bool,
        typer.Option(
            "--rerank",
            help="Also re-rank every refreshed evaluation's percentiles (exact afterwards).",
        ),
    ] = False,
) -> None:
    """Refresh the current evaluations in place with what the log gained since (the real-time
    refresh `scs serve` runs after each write); prints what it refreshed."""
    s = state(ctx)
    engine = s.engine()
    clock = time.perf_counter()
    done = catch_up(engine, s.settings)
    seconds = time.perf_counter() - clock
    if done is None:
        out.print("every current evaluation already reflects the whole log; nothing to refresh")
    else:
        print_catch_up(done, seconds)
    if rerank_percentiles:
        for r in rerank(engine):
            out.print(f"{r.policy}: evaluation {r.evaluation_id} re-ranked: {r.rows:,} percentiles")


def print_catch_up(done: CatchUp, seconds: float) -> None:
    for r in done.refreshed:
        out.print(
            f"{r.policy}: evaluation {r.evaluation_id} refreshed: {r.records:,} new records, "
            f"{r.changed:,} subjects changed, {r.subjects:,} rows rewritten, "
            f"{r.changes:,} decisions applied or lifted, {r.notices:,} notices "
            f"in {r.seconds:.2f} s"
        )
    for name in done.rebased:
        out.print(f"{name}: evaluated in full (a new policy version, or an older evaluation)")
    out.print(f"the log is reflected up to {done.position.as_json()} ({seconds:.2f} s)")


def register(app: typer.Typer) -> None:
    app.command("refresh")(refresh_command)
