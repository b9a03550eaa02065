"""`scs objections file|list|show|answer`: objections to records, from the command line.

The command line acts with an operator's reach (as `cli:<user>`): it files on a subject's
behalf and decides for a source. Every read and change is in the audit log.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli.common import err, out, state
from socialcredit.errors import InvalidInput, TooLarge
from socialcredit.rights import objections as service
from socialcredit.sharing.keys import Principal
from socialcredit.store.registry import find_subject

app = typer.Typer(
    help="Objections to records: file, list, show, answer (docs/rights.md).",
    no_args_is_help=True,
)


def _operator() -> Principal:
    return Principal(f"cli:{getpass.getuser()}", "operator")


def _read_evidence(path: Path) -> service.Evidence:
    if not path.is_file():
        raise InvalidInput("evidence", f"{path} is not a file")
    size = path.stat().st_size
    if size > service.MAX_EVIDENCE_BYTES:
        # Refused before reading it into memory, in the service's words.
        raise TooLarge(
            f"evidence: {path.name} is {size:,} bytes; the limit is "
            f"{service.MAX_EVIDENCE_BYTES:,} bytes (5 MiB)"
        )
    return service.Evidence(path.name, path.read_bytes())


@app.command("file")
def file_objection(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="The record objected to: SOURCE/RECORD_ID.")],
    subject: Annotated[str, typer.Option(help="The subject it is about (scheme:value).")],
    grounds: Annotated[str, typer.Option(help="Why the record is wrong.")],
    evidence: Annotated[
        Path | None, typer.Option(help="A file that supports the grounds (at most 5 MiB).")
    ] = None,
) -> None:
    """Object to a record on a subject's behalf. The record is disputed at once; its source
    must answer by the deadline. Prints the objection's id on the last line."""
    s = state(ctx)
    ref = service.parse_record_ref(record)
    proof = _read_evidence(evidence) if evidence is not None else None
    who = _operator()
    with s.engine().connect() as conn:
        subject_id = find_subject(conn, subject).id
    filed = service.file(s.engine(), who, who.name, ref, subject_id, grounds, proof)
    s.log("objection.file", f"objection {filed['id']}: {filed['record']} ({subject})")
    err.print(
        f"objection {filed['id']} filed: {filed['record']} is disputed; its source must answer "
        f"by {filed['due_at']} ({filed['deadline_days']} days)"
    )
    out.print(filed["id"])


@app.command("list")
def list_objections(
    ctx: typer.Context,
    open_: Annotated[bool, typer.Option("--open", help="Only those still open.")] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only those open past their deadline.")
    ] = False,
    subject: Annotated[str | None, typer.Option(help="Only this subject's (scheme:value).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Objections by due date: record, subject, state, deadline."""
    if fmt not in ("table", "json"):
        raise InvalidInput("format", f"{fmt!r} is not table or json")
    if open_ and overdue:
        raise InvalidInput(
            "open", "--open and --overdue do not go together (overdue ones are open)"
        )
    s = state(ctx)
    which: service.CaseState = "overdue" if overdue else "open" if open_ else "all"
    with s.engine().connect() as conn:
        subject_id = find_subject(conn, subject).id if subject else None
        found = service.list_objections(conn, _operator(), state=which, subject_id=subject_id)
    s.log("objection.list", f"{which} objections" + (f" of {subject}" if subject else ""))
    _print(found, fmt)


def _print(found: list[dict[str, object]], fmt: str) -> None:
    if fmt == "json":
        out.print_json(json.dumps(found))
        return
    table = Table("id", "record", "subject", "state", "filed", "due", "resolved")
    for o in found:
        table.add_row(
            str(o["id"]),
            str(o["record"]),
            str(o["subject"]),
            str(o["state"]),
            str(o["filed_at"]),
            str(o["due_at"]),
            str(o["resolved_at"] or ""),
        )
    out.print(table)


@app.command("show")
def show_objection(
    ctx: typer.Context,
    objection: Annotated[int, typer.Argument(help="The objection's id.", min=1, max=2**62)],
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """One objection and its timeline: each status change of the record, then the deadline."""
    if fmt not in ("table", "json"):
        raise InvalidInput("format", f"{fmt!r} is not table or json")
    s = state(ctx)
    with s.engine().connect() as conn:
        found = service.get_objection(conn, objection, _operator())
    s.log("objection.read", f"objection {objection}: {found['record']}")
    if fmt == "json":
        out.print_json(json.dumps(found))
        return
    _print([found], "table")
    out.print(f"grounds: {found['grounds']}")
    timeline = Table("at", "status", "reason", "by", title="timeline", title_justify="left")
    for step in found["timeline"]:
        timeline.add_row(step["at"], step["status"], step["reason"], step["actor"] or "")
    out.print(timeline)


@app.command("answer")
def answer_objection(
    ctx: typer.Context,
    objection: Annotated[int, typer.Argument(help="The objection's id.", min=1, max=2**62)],
    verified: Annotated[
        bool, typer.Option("--verified", help="The record is right; it counts again.")
    ] = False,
    retracted: Annotated[
        bool, typer.Option("--retracted", help="The record is withdrawn.")
    ] = False,
    corrected_by: Annotated[
        str | None,
        typer.Option(
            "--corrected-by",
            help="SOURCE/RECORD_ID of the record that supersedes it (send that record first).",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why; shown in the timeline.")] = None,
) -> None:
    """Answer an objection for the record's source: exactly one of --verified, --retracted,
    --corrected-by. After the deadline it is too late: the record has been suppressed."""
    chosen = [
        name
        for name, given in (
            ("verified", verified),
            ("retracted", retracted),
            ("corrected", corrected_by is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise InvalidInput("answer", "give exactly one of --verified, --retracted, --corrected-by")
    s = state(ctx)
    ref = service.parse_record_ref(corrected_by, "corrected-by") if corrected_by else None
    who = _operator()
    done = service.answer(s.engine(), who, who.name, objection, chosen[0], ref, note)
    s.log("objection.answer", f"objection {objection}: {done['record']} {done['state']}")
    out.print(f"objection {objection} answered {done['state']}: {done['record']}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="objections")
