"""evaluate, evaluations, scores export, decisions export, explain, check."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from socialcredit.audit.checkpoint import make_checkpoint
from socialcredit.cli.common import err, instant_option, out, state, write_table
from socialcredit.cli.explain_view import LangOption, chosen_language, render
from socialcredit.cli.scale import print_lake_run
from socialcredit.errors import NotFound, SocialCreditError
from socialcredit.i18n import use
from socialcredit.lake.layout import Lake, open_lake
from socialcredit.lake.run import run_lake_evaluations
from socialcredit.outcomes.gate import check_measure
from socialcredit.outcomes.runs import Run, run_evaluations
from socialcredit.rights.reports import (
    explain_subject,
    export_decisions,
    export_scores,
    report_document,
)
from socialcredit.store.evaluations import list_evaluations
from socialcredit.store.policies import get_policy, list_policies
from socialcredit.store.schema import records, subjects
from socialcredit.timeutil import format_instant

scores_app = typer.Typer(help="Export scores.", no_args_is_help=True)
decisions_app = typer.Typer(help="Export decisions (measures in force).", no_args_is_help=True)
evaluations_app = typer.Typer(help="List stored evaluations.", no_args_is_help=True)

PolicyOption = Annotated[str, typer.Option("--policy", help="Policy name.")]
EvaluationOption = Annotated[
    int | None,
    typer.Option("--evaluation", help="A stored evaluation id (default: the policy's latest)."),
]
ExportFormat = Annotated[str, typer.Option("--format", help="csv or parquet.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="File (default: CSV on stdout).")]


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
    app.command("explain")(explain_command)
    app.command("check")(check_command)
    app.add_typer(scores_app, name="scores")
    app.add_typer(decisions_app, name="decisions")
    app.add_typer(evaluations_app, name="evaluations")


def evaluate_command(
    ctx: typer.Context,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy", help="Policy to evaluate (repeatable; default: every policy in force)."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="ISO 8601 instant the outcome describes (default: now)."),
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option(
            "--known-at", help="Use only what was received by this instant (default: now)."
        ),
    ] = None,
    lake: Annotated[
        str | None,
        typer.Option(
            "--lake",
            help="Also evaluate this record lake (read in place, not loaded into the store); "
            "outcomes go to Parquet. A folder, or with --engine spark also a URL (s3a://…).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="With --lake: outcome folder (default: SCS_HOME/outcomes)."),
    ] = None,
    to_store: Annotated[
        bool, typer.Option("--store", help="With --lake: also store the outcomes in bulk.")
    ] = False,
    engine_name: Annotated[
        str,
        typer.Option(
            "--engine", help="duckdb (embedded) or spark: the same plan, the same outcomes."
        ),
    ] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="With --engine spark: the cluster (spark://host:7077, yarn, k8s://…); "
            "default local[2].",
        ),
    ] = None,
) -> None:
    """Evaluate policies and store the outcomes (one evaluation per policy)."""
    s = state(ctx)
    engine = s.engine()
    with engine.connect() as conn:
        nothing_to_evaluate(conn, policy, from_lake=lake is not None)
    columns = [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]
    if lake is not None:
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("starting")
            where: Lake | str = (
                lake
                if engine_name == "spark" and "://" in lake
                else open_lake(Path(lake), s.settings, must_exist=True)
            )
            lake_run = run_lake_evaluations(
                engine,
                s.settings,
                where,
                out_dir or s.settings.home / "outcomes",
                policy or None,
                instant_option(as_of, "as-of"),
                instant_option(known_at, "known-at"),
                store=to_store,
                progress=lambda message: bar.update(task, description=message),
                engine_name=engine_name,
                spark_master=spark_master,
            )
        print_lake_run(lake_run)
        return
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("starting")
        run = run_evaluations(
            engine,
            s.settings,
            policy or None,
            instant_option(as_of, "as-of"),
            instant_option(known_at, "known-at"),
            progress=lambda message: bar.update(task, description=message),
            engine_name=engine_name,
            spark_master=spark_master,
        )
    for r in run.results:
        s.log("evaluation.run", f"{r.policy.name} evaluation {r.evaluation_id}")
    try:  # the evaluation stands either way; a refusal means the log was rewritten
        make_checkpoint(engine, s.settings)
    except SocialCreditError as error:
        err.print(f"[yellow]warning:[/] no audit checkpoint signed: {error.message}")
    print_run(run)


def nothing_to_evaluate(conn: sa.Connection, names: list[str] | None, from_lake: bool) -> None:
    """Refuse when there is no policy to evaluate, and say so when there is no one to score or
    no record to count (the run goes on: an empty evaluation is still a stored, signed fact)."""
    if names:
        for name in names:
            get_policy(conn, name)  # an unknown name is refused with the known ones
    elif not list_policies(conn):
        packs = resources.files("socialcredit.policy.packs")
        raise NotFound(
            "nothing to evaluate: the store has no policy; add one with `scs policy add FILE` "
            f"(the bundled packs are {packs}/*.yaml), or try `scs demo`, a synthetic city "
            "with all of them"
        )
    if from_lake:
        return
    if conn.execute(sa.select(subjects.c.id).limit(1)).first() is None:
        err.print(
            "[yellow]note:[/] the store has no subjects and no records yet, so there is no one "
            "to score; register subjects with `scs subjects import FILE`, sources with "
            "`scs sources add`, then records with `scs ingest FILE --source ID`"
        )
    elif conn.execute(sa.select(records.c.record_id).limit(1)).first() is None:
        err.print(
            "[yellow]note:[/] the store has no records yet, so no one's score moves from "
            "where the policy starts it; add records with `scs ingest FILE --source ID`"
        )


def print_run(run: Run) -> None:
    load = run.timings["load"] + run.timings["register"]
    out.print(
        f"as of {format_instant(run.as_of)}, known at {format_instant(run.known_at)}; "
        f"loaded the store in {load:.2f} s"
    )
    table = Table(
        "evaluation",
        "policy",
        "version",
        "scored",
        "records counted",
        "listed",
        "decisions",
        "seconds",
    )
    for r in run.results:
        c = r.outcome.counts
        table.add_row(
            str(r.evaluation_id),
            r.policy.name,
            r.policy.version,
            f"{c['scored']:,}",
            f"{c['records_counted']:,}",
            f"{c['listed']:,}",
            f"{c['decisions']:,}",
            f"{r.seconds:.2f}",
        )
    out.print(table)
    for r in run.results:
        out.print(f"[dim]{r.policy.name} stages: {stage_line(r.outcome.timings)}[/]")
        if r.outcome.unmatched_types:
            shown = ", ".join(r.outcome.unmatched_types[:6])
            more = len(r.outcome.unmatched_types) - 6
            err.print(
                f"{r.policy.name}: ignores {len(r.outcome.unmatched_types)} record types "
                "no rule, list or condition uses "
                f"({shown}{f', … {more} more' if more > 0 else ''})"
            )


def stage_line(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in timings.items() if v >= 0.005)


@evaluations_app.command("list")
def evaluations_list(
    ctx: typer.Context,
    policy: Annotated[str | None, typer.Option("--policy", help="Only this policy.")] = None,
) -> None:
    """List stored evaluations, oldest first."""
    with state(ctx).engine().connect() as conn:
        if policy is not None:
            get_policy(conn, policy)
        found = list_evaluations(conn, policy)
    table = Table("id", "policy", "version", "as of", "known at", "current", "scored", "decisions")
    for e in found:
        scored = f"{e.counts.get('scored', 0):,}" if e.counts.get("scored") else "-"
        table.add_row(
            str(e.id),
            e.policy_name,
            e.policy_version,
            format_instant(e.as_of),
            format_instant(e.known_at),
            "yes" if e.current else "replay",
            scored,
            f"{e.counts.get('decisions', 0):,}",
        )
    out.print(table)
    err.print("checks and exports serve the latest current evaluation of each policy")


@scores_app.command("export")
def scores_export_command(
    ctx: typer.Context,
    policy: PolicyOption,
    fmt: ExportFormat = "csv",
    out_file: OutOption = None,
    evaluation: EvaluationOption = None,
) -> None:
    """subject, score, tier, percentile, then one column per category."""
    s = state(ctx)
    with s.engine().connect() as conn:
        table = export_scores(conn, policy, evaluation)
    s.log("scores.export", f"{policy}: {table.num_rows} subjects")
    write_table(table, fmt, out_file)


@decisions_app.command("export")
def decisions_export_command(
    ctx: typer.Context,
    policy: PolicyOption,
    fmt: ExportFormat = "csv",
    out_file: OutOption = None,
    evaluation: EvaluationOption = None,
    measure: Annotated[str | None, typer.Option(help="Only this measure.")] = None,
) -> None:
    """measure, subject, cause_subject, kind, since: every measure in force."""
    s = state(ctx)
    with s.engine().connect() as conn:
        table = export_decisions(conn, policy, evaluation, measure)
    s.log("decisions.export", f"{policy}: {table.num_rows} decisions")
    write_table(table, fmt, out_file)


def check_command(
    ctx: typer.Context,
    measure: Annotated[str, typer.Argument(help="Measure name, e.g. flight_ban.")],
    identifier: Annotated[str, typer.Argument(help="scheme:value")],
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy", help="The policy that declares the measure (needed if several do)."
        ),
    ] = None,
    evaluation: EvaluationOption = None,
) -> None:
    """The gate check a relying party asks: does MEASURE apply to this subject? (JSON)"""
    s = state(ctx)
    with s.engine().connect() as conn:
        answer = check_measure(conn, measure, identifier, policy, evaluation)
    s.log("measure.check", f"{measure} {answer['subject']}")
    out.print_json(json.dumps(answer))


def explain_command(
    ctx: typer.Context,
    identifier: Annotated[str, typer.Argument(help="scheme:value")],
    policy: PolicyOption,
    evaluation: EvaluationOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    records: Annotated[int, typer.Option(help="Records to show per factor.")] = 3,
    lang: LangOption = None,
) -> None:
    """Why this subject has its score, tier, lists and measures, record by record."""
    s = state(ctx)
    with s.engine().connect() as conn:
        report = explain_subject(conn, identifier, policy, evaluation)
    s.log("subject.report", report.subject.identifier)
    with use(chosen_language(lang)):  # the words of the text and of the JSON's text fields
        if as_json:
            out.print_json(json.dumps(report_document(report)))
            return
        render(report, records)
    if not report.reproduced:
        err.print("[yellow]warning:[/] the recomputed score differs from the stored one")
