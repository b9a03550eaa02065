"""`scs notices list` and `scs rights sweep`."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit.cli.common import err, out, state
from socialcredit.errors import InvalidInput
from socialcredit.i18n import DEFAULT
from socialcredit.rights.notices import list_notices
from socialcredit.rights.sweep import sweep
from socialcredit.store.registry import find_subject
from socialcredit.timeutil import format_instant

notices_app = typer.Typer(help="Notices: what changed for subjects.", no_args_is_help=True)
rights_app = typer.Typer(help="Due process: deadlines and retention.", no_args_is_help=True)
FORMATS = ("table", "json", "csv")
CSV_COLUMNS = ("id", "created_at", "subject", "policy", "kind", "topic", "adverse", "delivery")


def register(app: typer.Typer) -> None:
    app.add_typer(notices_app, name="notices")
    app.add_typer(rights_app, name="rights")


@notices_app.command("list")
def notices_list(
    ctx: typer.Context,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only this subject's (scheme:value).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
) -> None:
    """Notices, newest first, with their delivery state."""
    if fmt not in FORMATS:
        raise InvalidInput("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    s = state(ctx)
    with s.engine().connect() as conn:
        found = find_subject(conn, subject) if subject else None
        page = list_notices(conn, found, limit, language=DEFAULT)  # the subject's is unknown
    s.log("notices.list", found.identifier if found else f"all notices ({page['total']})")
    notices: list[dict[str, Any]] = page["notices"]
    if fmt == "json":
        out.print_json(json.dumps(page))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(notices)
        sys.stdout.write(buffer.getvalue())
        return
    table = Table("id", "created", "subject", "policy", "notice", "adverse", "delivery")
    for n in notices:
        table.add_row(
            str(n["id"]),
            n["created_at"],
            n.get("subject") or "",
            n["policy"] or "",
            n["headline"],
            "yes" if n["adverse"] else "no",
            n["delivery"] or "",
        )
    out.print(table)
    err.print(f"{len(notices)} of {page['total']} notices")


@rights_app.command("sweep")
def rights_sweep(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Resolve everything overdue as of now (SCS_NOW freezes it): retention purges, then a
    fresh evaluation when anything changed (which makes notices), then notice delivery."""
    if fmt not in ("table", "json"):
        raise InvalidInput("format", f"{fmt!r} is not table or json")
    s = state(ctx)
    result = sweep(s.engine(), s.settings)
    done = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v) or "nothing was due"
    s.log("rights.sweep", f"sweep at {format_instant(result.at)}: {done}"[:300])
    if fmt == "json":
        document = {
            "at": format_instant(result.at),
            "counts": result.counts,
            "evaluations": result.evaluations,
            "webhook": result.webhook,
        }
        out.print_json(json.dumps(document))
        return
    table = Table("step", "count", title=f"sweep as of {format_instant(result.at)}")
    for name, count in result.counts.items():
        table.add_row(name.replace("_", " "), f"{count:,}")
    out.print(table)
    if result.evaluations:
        out.print(f"evaluations: {', '.join(map(str, result.evaluations))}")
    if not result.webhook:
        err.print("no SCS_NOTICE_WEBHOOK_URL: notices wait in the outbox")
