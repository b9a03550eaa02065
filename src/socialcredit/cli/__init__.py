"""`scs`: the command line. Commands parse arguments, call the services and print; no rules.

Exit codes: 0 success; 1 some rows of a batch were rejected; 2 invalid input or usage;
3 not found; 4 conflict with what is stored; 5 the store is missing or not migrated;
6 the audit log does not verify; 7 unauthenticated or forbidden; 8 a run needed more memory
or spill space than allowed; 9 an upload (objection evidence) is over its size limit;
10 the NATS server is unreachable or lacks the stream (`scs stream init`).
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from socialcredit.cli import (
    cases,
    demo,
    objections,
    outcomes,
    policies,
    realtime,
    registry,
    rights,
    scale,
    service,
    stream,
)
from socialcredit.cli.common import State, err, out
from socialcredit.cli.helptext import plain_metavar, plain_metavars
from socialcredit.errors import (
    BrokerUnavailable,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ResourceLimit,
    SocialCreditError,
    StoreNotReady,
    TooLarge,
    Unauthenticated,
)
from socialcredit.settings import Settings

EXIT_CODES: list[tuple[type[SocialCreditError], int]] = [
    (InvalidInput, 2),
    (NotFound, 3),
    (Conflict, 4),
    (StoreNotReady, 5),
    (Unauthenticated, 7),
    (Forbidden, 7),
    (ResourceLimit, 8),
    (TooLarge, 9),
    (BrokerUnavailable, 10),
]


class _Group(TyperGroup):
    """Maps the package's errors to a message and an exit code, in one place; gives every
    option and argument a plain metavar in --help (`helptext`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_metavars(self)  # the whole tree: Typer builds the subcommands first

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        for param in params:  # Typer adds the completion options after __init__
            plain_metavar(param)
        return params

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SocialCreditError as error:
            err.print(f"[bold red]error:[/] {error.message}", highlight=False)
            code = next((c for kind, c in EXIT_CODES if isinstance(error, kind)), 1)
            raise typer.Exit(code) from None


app = typer.Typer(
    name="scs",
    cls=_Group,
    help="An open, auditable social credit system: every score explained, every record "
    "contestable, every measure expiring.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def package_version() -> str:
    try:
        return version("socialcredit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        out.print(f"scs (socialcredit) {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            expose_value=False,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Settings come from the environment: SCS_HOME (default ./scs-data) and SCS_DATABASE_URL."""
    ctx.obj = State(Settings())
    ctx.call_on_close(ctx.obj.close)


registry.register(app)
policies.register(app)
outcomes.register(app)
realtime.register(app)
demo.register(app)
scale.register(app)
service.register(app)
objections.register(app)
rights.register(app)
cases.register(app)
stream.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; nothing was half-applied")
        sys.exit(130)
