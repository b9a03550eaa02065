"""`scs appeals` and `scs repair`: human review of decisions and credit repair.

`file` and `apply` print the new case's id alone on the last line; every `list` takes
`--format json`. Every command is in the audit log as the local user (`cli:<user>`).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.table import Table

from socialcredit.cli.common import State, err, instant_option, kv_table, out, state
from socialcredit.errors import InvalidInput
from socialcredit.rights import appeals, repair
from socialcredit.store.db import writing
from socialcredit.store.registry import find_subject
from socialcredit.timeutil import now

appeals_app = typer.Typer(
    help="Appeals of decisions: a reviewer upholds a measure or lifts it.", no_args_is_help=True
)
repair_app = typer.Typer(
    help="Credit repair: a listed subject applies to leave a list early.", no_args_is_help=True
)

Subject = Annotated[str, typer.Option("--subject", help="The subject (scheme:value).")]
Policy = Annotated[str, typer.Option("--policy", help="The policy in force that decides it.")]
Note = Annotated[str, typer.Option("--note", help="The reviewer's reasons, in words.")]
Format = Annotated[str, typer.Option("--format", help="table or json.")]
OnlyOpen = Annotated[bool, typer.Option("--open", help="Only the cases still open.")]
Overdue = Annotated[bool, typer.Option("--overdue", help="Only open cases past their deadline.")]
ForSubject = Annotated[str | None, typer.Option("--subject", help="Only this subject's cases.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _state_filter(only_open: bool, overdue: bool) -> str | None:
    if only_open and overdue:
        raise InvalidInput("open", "choose --open or --overdue, not both")
    return "overdue" if overdue else "open" if only_open else None


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise InvalidInput("format", f"{fmt!r} is not table or json")


def _subject_id(conn: sa.Connection, identifier: str | None) -> int | None:
    return None if identifier is None else find_subject(conn, identifier).id


def _show(document: dict[str, Any], fields: list[str]) -> None:
    out.print(kv_table((k, document[k] if document[k] is not None else "") for k in fields))
    timeline = Table("when", "what", title="timeline", title_justify="left")
    for event in document["timeline"]:
        mark = "" if event["done"] else " (due)"
        timeline.add_row(event["at"], event["what"] + mark)
    out.print(timeline)


def _listing(
    s: State,
    fmt: str,
    action: str,
    load: Callable[[sa.Connection, datetime], list[dict[str, Any]]],
    columns: list[str],
) -> None:
    _check_format(fmt)
    at = now()
    with s.engine().connect() as conn:
        documents = load(conn, at)
    s.log(action, f"{len(documents)} cases")
    if fmt == "json":
        out.print_json(json.dumps(documents))
        return
    table = Table(*columns)
    for d in documents:
        table.add_row(*(str(d[c]) if d[c] is not None else "" for c in columns))
    out.print(table)


# --- appeals ---------------------------------------------------------------------------------


@appeals_app.command("file")
def appeals_file(
    ctx: typer.Context,
    measure: Annotated[str, typer.Argument(help="The measure appealed, e.g. flight_ban.")],
    subject: Subject,
    policy: Policy,
    grounds: Annotated[str, typer.Option("--grounds", help="Why the decision is wrong.")],
    cause: Annotated[
        str | None,
        typer.Option(help="For a collateral measure: the subject whose conduct brought it."),
    ] = None,
) -> None:
    """Appeal a decision on a subject's behalf; prints the appeal's id on the last line."""
    s = state(ctx)
    with writing(s.engine()) as conn:
        found = find_subject(conn, subject)
        appeal = appeals.file_appeal(conn, found, policy, measure, grounds, _actor(), cause)
    s.log("appeal.file", f"appeal {appeal.id}: {measure} {found.identifier}")
    err.print(f"appeal filed; a reviewer's decision is due by {appeal.due_at.isoformat()}")
    out.print(appeal.id)


@appeals_app.command("list")
def appeals_list(
    ctx: typer.Context,
    only_open: OnlyOpen = False,
    overdue: Overdue = False,
    subject: ForSubject = None,
    fmt: Format = "table",
) -> None:
    """Appeals by due date."""
    wanted = _state_filter(only_open, overdue)

    def load(conn: sa.Connection, at: datetime) -> list[dict[str, Any]]:
        found = appeals.list_appeals(conn, at, wanted, _subject_id(conn, subject))
        return [appeals.appeal_document(conn, a, at) for a in found]

    columns = ["id", "subject", "policy", "measure", "status", "due_at", "overdue"]
    _listing(state(ctx), fmt, "appeal.list", load, columns)


@appeals_app.command("show")
def appeals_show(
    ctx: typer.Context,
    appeal_id: Annotated[int, typer.Argument(help="The appeal's id.")],
    fmt: Format = "table",
) -> None:
    """One appeal and its timeline."""
    _check_format(fmt)
    s = state(ctx)
    with s.engine().connect() as conn:
        document = appeals.appeal_document(conn, appeals.get_appeal(conn, appeal_id), now())
    s.log("appeal.read", f"appeal {appeal_id}")
    if fmt == "json":
        out.print_json(json.dumps(document))
        return
    fields = ["id", "subject", "policy", "measure", "reasons", "grounds", "status", "note"]
    _show(document, [*fields, "until"])


@appeals_app.command("decide")
def appeals_decide(
    ctx: typer.Context,
    appeal_id: Annotated[int, typer.Argument(help="The appeal's id.")],
    note: Note,
    uphold: Annotated[bool, typer.Option("--uphold", help="The decision stands.")] = False,
    override: Annotated[
        bool, typer.Option("--override", help="Lift the measure for this subject.")
    ] = False,
    until: Annotated[
        str | None,
        typer.Option(help="When an override ends (ISO 8601); without it, when its cause changes."),
    ] = None,
) -> None:
    """A reviewer's decision on an appeal: --uphold, or --override [--until DATE]."""
    if uphold == override:
        raise InvalidInput("uphold", "choose one of --uphold or --override")
    ends = instant_option(until, "until")
    s = state(ctx)
    with writing(s.engine()) as conn:
        outcome = "override" if override else "uphold"
        appeal = appeals.decide_appeal(conn, appeal_id, outcome, note, _actor(), ends)
    s.log("appeal.decide", f"appeal {appeal.id}: {appeal.status}")
    ending = f" until {appeal.until.isoformat()}" if appeal.until else ""
    out.print(f"appeal {appeal.id} {appeal.status}{ending}")


# --- credit repair ---------------------------------------------------------------------------


@repair_app.command("apply")
def repair_apply(
    ctx: typer.Context,
    list_name: Annotated[str, typer.Argument(help="The list to leave.")],
    subject: Subject,
    policy: Policy,
) -> None:
    """Apply for credit repair on a subject's behalf; prints the application's id last."""
    s = state(ctx)
    with writing(s.engine()) as conn:
        found = find_subject(conn, subject)
        application = repair.apply_for_repair(conn, found, policy, list_name, _actor())
    s.log("repair.apply", f"repair {application.id}: {list_name} {found.identifier}")
    err.print(f"application filed; a decision is due by {application.due_at.isoformat()}")
    out.print(application.id)


@repair_app.command("list")
def repair_list(
    ctx: typer.Context,
    only_open: OnlyOpen = False,
    overdue: Overdue = False,
    subject: ForSubject = None,
    fmt: Format = "table",
) -> None:
    """Repair applications by due date."""
    wanted = _state_filter(only_open, overdue)

    def load(conn: sa.Connection, at: datetime) -> list[dict[str, Any]]:
        found = repair.list_applications(conn, at, wanted, _subject_id(conn, subject))
        return [repair.application_document(conn, a, at) for a in found]

    columns = ["id", "subject", "policy", "list", "status", "due_at", "overdue"]
    _listing(state(ctx), fmt, "repair.list", load, columns)


@repair_app.command("show")
def repair_show(
    ctx: typer.Context,
    application_id: Annotated[int, typer.Argument(help="The application's id.")],
    fmt: Format = "table",
) -> None:
    """One repair application and its timeline."""
    _check_format(fmt)
    s = state(ctx)
    with s.engine().connect() as conn:
        found = repair.get_application(conn, application_id)
        document = repair.application_document(conn, found, now())
    s.log("repair.read", f"repair {application_id}")
    if fmt == "json":
        out.print_json(json.dumps(document))
        return
    _show(document, ["id", "subject", "policy", "list", "status", "note", "exit_record"])


@repair_app.command("decide")
def repair_decide(
    ctx: typer.Context,
    application_id: Annotated[int, typer.Argument(help="The application's id.")],
    note: Note,
    approve: Annotated[bool, typer.Option("--approve", help="Write the exit record.")] = False,
    refuse: Annotated[bool, typer.Option("--refuse", help="The subject stays listed.")] = False,
) -> None:
    """A reviewer's decision on a repair application: --approve or --refuse, with --note."""
    if approve == refuse:
        raise InvalidInput("approve", "choose one of --approve or --refuse")
    s = state(ctx)
    with writing(s.engine()) as conn:
        application = repair.decide_repair(conn, application_id, approve, note, _actor())
    s.log("repair.decide", f"repair {application.id}: {application.status}")
    out.print(f"repair application {application.id} {application.status}")


def register(app: typer.Typer) -> None:
    app.add_typer(appeals_app, name="appeals")
    app.add_typer(repair_app, name="repair")
