"""What every command shares: settings and store, consoles, report and table output."""

from __future__ import annotations

import csv
import getpass
import io
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from socialcredit.audit.log import Entry, append_entries
from socialcredit.errors import InvalidInput, StoreNotReady
from socialcredit.ingest.report import Report
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine, require_ready
from socialcredit.timeutil import parse_instant

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
T = TypeVar("T")


@dataclass
class State:
    settings: Settings
    _engine: sa.Engine | None = field(default=None, init=False)

    def engine(self, check: bool = True) -> sa.Engine:
        """The store's engine; `check=False` only for commands that create the store (init,
        demo): any other command refuses a missing store, and creates nothing."""
        if self._engine is None:
            if check:
                require_store_file(self.settings)
            self._engine = create_engine(self.settings)
        if check:
            require_ready(self._engine)
        return self._engine

    def log(self, action: str, target: str, purpose: str = "command line") -> None:
        """Append to the audit log as the local user. The CLI reads the store directly, with
        an operator's reach, so its reads of personal data and its changes are logged too."""
        actor = f"cli:{getpass.getuser()}"
        append_entries(self.engine(), [Entry.now(actor, "operator", action, target, purpose)])

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def require_store_file(settings: Settings) -> None:
    """Refuse before opening an SQLite store that does not exist: opening it would create an
    empty file (and its folder) in whatever folder the command ran in."""
    try:
        url = sa.make_url(settings.url)
    except sa.exc.ArgumentError:
        return  # create_engine names the bad URL
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    path = Path(database).absolute()
    if path.exists():
        return
    if settings.database_url:
        where = "named by SCS_DATABASE_URL"
    elif "home" in settings.model_fields_set:
        where = f"SCS_HOME is {settings.home}"
    else:
        where = f"SCS_HOME is not set, so ./{settings.home}; set SCS_HOME to use another folder"
    raise StoreNotReady(
        f"no store at {path} ({where}); create one there with `scs init`, "
        "or try `scs demo` (a synthetic city, served on localhost)"
    )


def command_prefix(argv0: str | None = None, executable: str | None = None) -> str:
    """How to run `scs` again from here, as this run was started: `scs` when that is on the
    PATH, else the path it was run by (`.venv/bin/scs` after `make demo`), or
    `python -m socialcredit.cli` with this interpreter."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    started = Path(argv0)
    if started.name in ("__main__.py", "-m") or started.name.startswith("__main__"):
        return f"{_here(executable)} -m socialcredit.cli"
    if started.stem != "scs":  # not a command line (a test runner, an embedding program)
        return "scs"
    on_path = shutil.which("scs")
    if (
        on_path is not None
        and Path(on_path).resolve() == Path(shutil.which(argv0) or argv0).resolve()
    ):
        return "scs"
    return _here(argv0)


def _here(path: str) -> str:
    """`path` relative to the current folder when it is under it (as a user would type it)."""
    absolute = Path(path).absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    if len(relative.parts) == 1:  # a bare name would be looked up on the PATH
        return f"./{relative}"
    return str(relative)


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def instant_option(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value, name)
    except InvalidInput as error:
        raise InvalidInput(name, error.reason) from None


def check_writable(path: Path | None, option: str = "report") -> None:
    """Fail before any work if the file could not be written afterwards."""
    if path is None:
        return
    if path.is_dir() or not path.parent.is_dir():
        raise InvalidInput(
            option, f"cannot write {path}: it is a folder, or its folder does not exist"
        )


def print_report(report: Report, report_file: Path | None, shown: int = 20) -> None:
    colour = "green" if report.ok else "yellow"
    out.print(f"[{colour}]{report.summary()}[/] in {report.seconds:.1f} s")
    if report_file is not None:
        with report_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "field", "reason"])
            writer.writerows((r.line, r.field, r.reason) for r in report.rejected)
        out.print(f"the full report is in {report_file}")
    if report.rejected:
        table = Table("line", "field", "reason", title="rejected rows", title_justify="left")
        for rejection in report.rejected[:shown]:
            table.add_row(str(rejection.line), rejection.field, rejection.reason)
        err.print(table)
        if len(report.rejected) > shown:
            err.print(
                f"… and {len(report.rejected) - shown} more problems"
                + ("" if report_file else " (write them all with --report FILE)")
            )


def counting(rows: Iterable[T], description: str = "", total: int | None = None) -> Iterator[T]:
    """Pass rows through while a progress bar counts them (on stderr, only on a terminal)."""
    if not err.is_terminal:
        yield from rows
        return
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(description, total=total)
        for n, row in enumerate(rows, start=1):
            if n % 5000 == 0:
                progress.update(task, completed=n)
            yield row


def write_table(table: pa.Table, fmt: str, path: Path | None) -> None:
    """Write CSV or Parquet to `path`, or CSV to standard output."""
    if fmt not in ("csv", "parquet"):
        raise InvalidInput("format", f"{fmt!r} is not csv or parquet")
    if path is None:
        if fmt == "parquet":
            raise InvalidInput("out", "Parquet needs a file: pass --out FILE")
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(quoting_style="needed"))
        sys.stdout.write(buffer.getvalue().decode())
        return
    check_writable(path, "out")
    try:
        if fmt == "parquet":
            pq.write_table(table, path, compression="zstd")
        else:
            pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    except OSError as error:
        raise InvalidInput("out", f"cannot write {path} ({error})") from None
    err.print(f"wrote {table.num_rows:,} rows to {path}")


def kv_table(rows: Iterable[tuple[str, Any]], title: str | None = None) -> Table:
    table = Table(show_header=False, title=title, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, str(value))
    return table
