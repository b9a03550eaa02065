"""scs demo: a synthetic city through the whole pipeline, and a summary of what came out."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import pyarrow.compute as pc
import sqlalchemy as sa
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from socialcredit.cli.common import State, command_prefix, err, out, state
from socialcredit.cli.outcomes import stage_line
from socialcredit.cli.service import check_port, run_server
from socialcredit.engine.outcome import Outcome
from socialcredit.errors import InvalidInput
from socialcredit.i18n import text
from socialcredit.outcomes.runs import Run
from socialcredit.simulate.demo import DemoResult, demo_keys, run_demo, tour_subject
from socialcredit.simulate.population import CityConfig
from socialcredit.simulate.realtime_tour import RealTimeTour, listed_by_demo
from socialcredit.simulate.tour import Tour
from socialcredit.store.db import reset_store
from socialcredit.store.registry import first_identifiers
from socialcredit.timeutil import format_instant


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    ctx: typer.Context,
    people: Annotated[int, typer.Option(min=10, help="People in the city.")] = 50_000,
    orgs: Annotated[int, typer.Option(min=1, help="Organizations.")] = 3_000,
    authorities: Annotated[int, typer.Option(min=1, help="Government bodies.")] = 20,
    years: Annotated[int, typer.Option(min=1, max=10, help="Years of records.")] = 2,
    seed: Annotated[int, typer.Option(help="Same seed, same city, same scores.")] = 7,
    until: Annotated[
        str,
        typer.Option(
            help="The day the records end and the evaluation describes (not in the future)."
        ),
    ] = "2026-11-01",
    reset: Annotated[
        bool,
        typer.Option(help="Delete everything in the store first (SCS_HOME or SCS_DATABASE_URL)."),
    ] = False,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve", help="Serve the API and web pages afterwards, with demo keys."
        ),
    ] = True,
    host: Annotated[str, typer.Option(help="Where the demo serves.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port the demo serves on.")] = 8000,
) -> None:
    """Build a synthetic city, ingest it, evaluate every bundled pack, summarise, then serve
    the API and web pages with demo keys for each kind of user (unless --no-serve)."""
    try:
        end = date.fromisoformat(until)
    except ValueError:
        raise InvalidInput("until", f"{until!r} is not a date (YYYY-MM-DD)") from None
    if serve:  # before minutes of work, not after
        check_port(host, port)
    s = state(ctx)
    engine = s.engine(check=False)
    if reset:
        reset_store(engine)
    config = CityConfig(
        people=people, orgs=orgs, authorities=authorities, years=years, seed=seed, until=end
    )
    columns = [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("starting")
        result = run_demo(
            engine,
            s.settings,
            config,
            progress=lambda message: bar.update(task, description=message),
        )
    scs = command_prefix()
    with engine.connect() as conn:
        print_summary(result, conn, scs)
    _print_keys(s, result, host, port, scs, serve)
    if serve:
        run_server(s, host, port)


def _tour_name(run: Run, conn: sa.Connection) -> str | None:
    sid = tour_subject(run, listed_by_demo(conn))
    return None if sid is None else first_identifiers(conn, [sid])[sid]


def _print_keys(s: State, result: DemoResult, host: str, port: int, scs: str, serve: bool) -> None:
    """Mint a key for each kind of user (served now or later), print them once and keep them
    in SCS_HOME/demo-keys.txt (readable by its owner only) for a later `scs serve`."""
    engine = s.engine()
    assert result.run is not None
    with engine.connect() as conn:
        subject = _tour_name(result.run, conn)
    keys = demo_keys(engine, subject)
    out.rule("The service")
    base = f"http://{host}:{port}"
    lines = [f"{k.label} ({k.role}), start at {base}{k.start}:\n    {k.key}" for k in keys]
    saved = _save_keys(s.settings.home / "demo-keys.txt", lines)
    out.print(
        f"Demo keys (`{scs} keys list` lists them, `{scs} keys revoke PREFIX` ends one; "
        f"{f'also in {saved}' if saved else 'shown only now'}):",
        soft_wrap=True,
    )
    for line in lines:
        out.print(f"  {line}", soft_wrap=True)
    if not serve:
        if s.settings.database_url:
            same = "with the same SCS_DATABASE_URL"
        elif "home" in s.settings.model_fields_set:
            same = "with the same SCS_HOME"
        else:
            same = f"from this folder: the store is ./{s.settings.home}"
        out.print(
            f"Serve them with `{scs} serve --host {host} --port {port}` ({same}), then:",
            soft_wrap=True,
        )
    out.print(
        f"Log in at {base}/login with a key, or call the API with `Authorization: Bearer <key>` "
        f"(docs at {base}/docs). Public lists need no key: {base}/lists",
        soft_wrap=True,
    )
    if subject is not None:
        airline = next(k.key for k in keys if k.label == "demo airline")
        out.print("An airline's gate check:")
        out.print(
            f"  curl -H 'Authorization: Bearer {airline}' "
            f"'{base}/v1/measures/flight_ban/check?subject={subject}'",
            soft_wrap=True,
        )


def _save_keys(path: Path, lines: list[str]) -> Path | None:
    """Write the keys where only their owner can read them; None when the folder is not
    writable (they are printed anyway)."""
    text = "# scs demo keys (each works until `scs keys revoke PREFIX`)\n" + "\n".join(lines)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        path.chmod(0o600)  # an older file keeps its mode through O_TRUNC
    except OSError:
        return None
    return path


def _histogram(outcome: Outcome, bins: int = 12) -> Table:
    table = Table("score", "subjects", "", box=None, pad_edge=False)
    pairs = outcome.distribution
    if not pairs:
        return table
    low, high = pairs[0][0], pairs[-1][0]
    width = max(1, -(-(high - low + 1) // bins))
    counts: dict[int, int] = {}
    for score, n in pairs:
        start = low + (score - low) // width * width
        counts[start] = counts.get(start, 0) + n
    peak = max(counts.values())
    for start in range(low, high + 1, width):
        n = counts.get(start, 0)
        table.add_row(f"{start}–{start + width - 1}", f"{n:,}", "█" * round(30 * n / peak))
    return table


def print_summary(result: DemoResult, conn: sa.Connection, scs: str = "scs") -> None:
    c = result.config
    _, relationships, records = result.reports
    out.print(
        f"[bold]Synthetic city[/] (seed {c.seed}): {c.people:,} people, {c.orgs:,} "
        f"organizations, {c.authorities} authorities; {relationships.accepted:,} "
        f"relationships; {records.total:,} records from 14 sources over {c.years} years "
        f"to {c.until}"
    )
    for report in result.reports:
        if report.rejected:
            err.print(f"[red]{report.summary()}[/]")
    run = result.run
    assert run is not None
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.steps.items())
    out.print(f"[bold]Steps[/]: {steps}; total {sum(result.steps.values()):.1f} s")
    load = run.timings["load"] + run.timings["register"]
    out.print(f"[bold]Evaluation[/]: loaded the store in {load:.2f} s, then")
    for r in run.results:
        out.print(
            f"  {r.policy.name}: {r.outcome.counts['scored']:,} scored in {r.seconds:.2f} s "
            f"({stage_line(r.outcome.timings)})"
        )
    for r in run.results:
        _print_policy(r.outcome)
    if result.tour is not None:
        _print_due_process(result.tour)
    if result.realtime is not None:
        _print_realtime(result.realtime)
    _print_tour(run, conn, result.tour, scs)


def _print_policy(outcome: Outcome) -> None:
    policy = outcome.policy
    out.rule(f"{policy.name} {policy.version}: {text(policy.title)}")
    scored = outcome.scores.num_rows
    if policy.scores and scored:
        out.print(_histogram(outcome))
        tiers = Table("tier", "subjects", "share", box=None)
        for tier in policy.tiers:
            n = int(pc.sum(pc.equal(outcome.scores["tier"], tier.name)).as_py() or 0)
            tiers.add_row(tier.name, f"{n:,}", f"{100 * n / scored:.1f}%")
        out.print(tiers)
    for definition in policy.lists:
        n = outcome.counts.get(f"list:{definition.name}", 0)
        out.print(
            f"list [bold]{definition.name}[/] ({definition.kind}"
            f"{', public' if definition.public else ''}): {n:,}"
        )
    if policy.measures:
        measures = Table("measure", "kind", "authority", "in force", box=None)
        for measure in policy.measures:
            measures.add_row(
                measure.name,
                measure.kind,
                measure.authority,
                f"{outcome.counts.get(f'measure:{measure.name}', 0):,}",
            )
        out.print(measures)


def _print_due_process(tour: Tour) -> None:
    """The tour's person contested a record, appealed the flight ban, and was told."""
    out.rule("Due process")
    o = tour.objection
    out.print(
        f"{tour.subject} objected to record {o['record']} (objection {o['id']}); the source "
        f"answered [bold]{o['state']}[/]: {o.get('note') or 'no note'}",
        soft_wrap=True,
    )
    a = tour.appeal
    if a is not None:
        state = "awaits a reviewer" if a.status == "open" else a.status
        out.print(
            f"appeal {a.id} of {a.measure} ({a.policy}) {state}; a person decides by "
            f"{format_instant(a.due_at)}",
            soft_wrap=True,
        )
    out.print(f"notices to {tour.subject} (newest first):", soft_wrap=True)
    for n in tour.notices[:4]:
        respond = (n.get("contest") or {}).get("respond_by")
        tail = f"; respond by {respond[:10]}" if respond else ""
        out.print(f"  {n['created_at'][:10]} {n['headline']}{tail}", soft_wrap=True)


def _print_realtime(tour: RealTimeTour) -> None:
    """A court listed a person; the airline's gate check answered differently at once."""
    out.rule("Real time")
    words = {True: "applies", False: "does not apply"}
    if tour.already:
        out.print(
            f"{tour.record} (a court listing of {tour.subject}) was posted by an earlier demo on "
            f"this store; the gate check says the flight ban {words[tour.after]}",
            soft_wrap=True,
        )
        return
    out.print(
        f"the court posted {tour.record}, listing {tour.subject} (as `POST /v1/records` does); "
        f"no evaluation run, a refresh of {tour.refreshed:,} subjects' rows; the airline's gate "
        f"check: the flight ban {words[tour.before]} → [bold]{words[tour.after]}[/] "
        f"{tour.seconds:.2f} s after the record was posted",
        soft_wrap=True,
    )


def _print_tour(run: Run, conn: sa.Connection, tour: Tour | None, scs: str) -> None:
    """Suggest the tour's next commands, about a person the demo put under a flight ban, as
    they can be run from here (`scs`, or `.venv/bin/scs` when that is how the demo ran)."""
    out.rule("Try next")
    name = _tour_name(run, conn)
    if name is not None:
        if any(r.policy.name == "sesame" for r in run.results):
            out.print(f"  {scs} explain {name} --policy sesame")
        out.print(f"  {scs} check flight_ban {name}")
        out.print(f"  {scs} explain {name} --policy national")
    if tour is not None:
        out.print(f"  {scs} objections show {tour.objection['id']}")
        if tour.appeal is not None and tour.appeal.status == "open":
            out.print(
                f'  {scs} appeals decide {tour.appeal.id} --override --note "paid in full"',
                soft_wrap=True,
            )
        out.print(f"  {scs} notices list --subject {tour.subject}")
        out.print(f"  {scs} rights sweep")
    out.print(f"  {scs} scores export --policy sesame --out sesame.csv")
    out.print(f"  {scs} policy lint")
