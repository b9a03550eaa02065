"""init, sources, subjects, relationships, ingest."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli.common import check_writable, counting, kv_table, out, print_report, state
from socialcredit.ingest.files import (
    import_relationships_file,
    import_subjects_file,
    ingest_file,
)
from socialcredit.ingest.report import Report
from socialcredit.lake.ingest import ingest_to_lake
from socialcredit.lake.layout import open_lake
from socialcredit.store.db import init_store
from socialcredit.store.registry import count_subjects, find_subject
from socialcredit.store.sources import add_source, list_sources

sources_app = typer.Typer(
    help="Register and list the sources that may submit records.", no_args_is_help=True
)
subjects_app = typer.Typer(help="Import and look up subjects.", no_args_is_help=True)
relationships_app = typer.Typer(help="Import relationships between subjects.", no_args_is_help=True)

ReportOption = Annotated[
    Path | None, typer.Option("--report", help="Write every rejected row to this CSV file.")
]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="csv, jsonl or parquet (default: by extension).")
]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("ingest")(ingest)
    app.add_typer(sources_app, name="sources")
    app.add_typer(subjects_app, name="subjects")
    app.add_typer(relationships_app, name="relationships")


def _finish(report: Report) -> None:
    if not report.ok:
        raise typer.Exit(1)


def init(ctx: typer.Context) -> None:
    """Create the store (or upgrade its schema to this version)."""
    engine = state(ctx).engine(check=False)
    revision = init_store(engine)
    out.print(
        f"store ready at {engine.url.render_as_string(hide_password=True)} (schema {revision})"
    )


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    source_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. court-weihai")],
    kind: Annotated[str, typer.Option(help="court, bank, tax, platform, utility, …")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the id).")] = None,
    reliability: Annotated[float, typer.Option(help="In (0, 1]; scales every weight.")] = 1.0,
    types: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated record types it may submit, e.g. 'court.*,credit.repair.approved'"
            " (default: any type)."
        ),
    ] = None,
    retention: Annotated[
        str | None,
        typer.Option(
            help="The longest a negative record of this source may be kept, e.g. 5y; "
            "`scs rights sweep` purges older ones (default: only the policies' limits)."
        ),
    ] = None,
) -> None:
    """Register a source. Re-adding an identical source changes nothing."""
    patterns = None if types is None else types.split(",")
    with state(ctx).engine().begin() as conn:
        source, created = add_source(conn, source_id, kind, name, reliability, patterns, retention)
    allowed = ", ".join(source.types) if source.types else "any type"
    verb = "registered" if created else "already registered"
    kept = f"; negative records kept {source.retention_days} days" if source.retention_days else ""
    out.print(
        f"{verb}: {source.id} ({source.kind}, reliability {source.reliability}); "
        f"may submit {allowed}{kept}"
    )


@sources_app.command("list")
def sources_list(ctx: typer.Context) -> None:
    """List the registered sources."""
    with state(ctx).engine().connect() as conn:
        found = list_sources(conn)
    table = Table("id", "name", "kind", "reliability", "types")
    for s in found:
        table.add_row(s.id, s.name, s.kind, f"{s.reliability:g}", ", ".join(s.types or ["any"]))
    out.print(table)


@subjects_app.command("import")
def subjects_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: identifier,kind,name,region,born")],
    fmt: FormatOption = None,
    report_file: ReportOption = None,
) -> None:
    """Register subjects. Valid rows are kept; each rejected row is reported."""
    check_writable(report_file)
    watch = partial(counting, description=f"importing {file.name}")
    s = state(ctx)
    report = import_subjects_file(s.engine(), file, fmt, watch)
    s.log("subjects.import", f"{file.name}: {report.accepted} accepted")
    print_report(report, report_file)
    _finish(report)


@subjects_app.command("show")
def subjects_show(
    ctx: typer.Context, identifier: Annotated[str, typer.Argument(help="scheme:value")]
) -> None:
    """Show a registered subject."""
    s = state(ctx)
    with s.engine().connect() as conn:
        subject = find_subject(conn, identifier)
    s.log("subject.read", subject.identifier)
    out.print(
        kv_table(
            [
                ("identifiers", ", ".join(subject.identifiers)),
                ("kind", subject.kind),
                ("name", subject.name),
                ("region", subject.region or "-"),
                (
                    "born" if subject.kind == "person" else "founded",
                    subject.born or subject.founded or "-",
                ),
            ]
        )
    )


@subjects_app.command("count")
def subjects_count(ctx: typer.Context) -> None:
    """Count the registered subjects by kind."""
    with state(ctx).engine().connect() as conn:
        counts = count_subjects(conn)
    out.print(kv_table(sorted(counts.items())))


@relationships_app.command("import")
def relationships_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: from,to,kind,weight,valid_from,valid_to")],
    fmt: FormatOption = None,
    report_file: ReportOption = None,
) -> None:
    """Register relationships between registered subjects."""
    check_writable(report_file)
    watch = partial(counting, description=f"importing {file.name}")
    s = state(ctx)
    report = import_relationships_file(s.engine(), file, fmt, watch)
    s.log("relationships.import", f"{file.name}: {report.accepted} accepted")
    print_report(report, report_file)
    _finish(report)


def ingest(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV, JSON Lines or Parquet: record_id, subject, "
            "type, occurred_at, value[, supersedes, attrs]"
        ),
    ],
    source: Annotated[str, typer.Option(help="The registered source that sends the records.")],
    fmt: FormatOption = None,
    report_file: ReportOption = None,
    lake: Annotated[
        Path | None,
        typer.Option(
            "--lake",
            help="Append the accepted records to this record lake instead of the store "
            "(validated against the store's registry and sources).",
        ),
    ] = None,
) -> None:
    """Append records from a registered source. Re-ingesting a file changes nothing."""
    check_writable(report_file)
    watch = partial(counting, description=f"ingesting {file.name}")
    s = state(ctx)
    if lake is not None:
        target = open_lake(lake, s.settings)
        report = ingest_to_lake(s.engine(), target, file, source, fmt, watch)
    else:
        report = ingest_file(s.engine(), file, source, fmt, watch)
    s.log("records.ingest", f"source {source}: {report.accepted} accepted from {file.name}")
    print_report(report, report_file)
    _finish(report)
