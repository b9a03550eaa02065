"""`scs`: the command line. Commands parse arguments, call the services and print; no rules.

Exit codes: 0 success; 1 some rows of a batch were rejected; 2 invalid input or usage;
3 not found; 4 conflict with what is stored; 5 the store is missing or not migrated;
6 the audit log does not verify; 7 unauthenticated or forbidden; 8 a run needed more memory
or spill space than allowed; 9 an upload (objection evidence) is over its size limit.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from socialcredit.cli import (
    cases,
    demo,
    objections,
    outcomes,
    policies,
    registry,
    rights,
    scale,
    service,
)
from socialcredit.cli.common import State, err
from socialcredit.errors import (
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
]


class _Group(TyperGroup):
    """Maps the package's errors to a message and an exit code, in one place."""

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


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Settings come from the environment: SCS_HOME (default ./scs-data) and SCS_DATABASE_URL."""
    ctx.obj = State(Settings())
    ctx.call_on_close(ctx.obj.close)


registry.register(app)
policies.register(app)
outcomes.register(app)
demo.register(app)
scale.register(app)
service.register(app)
objections.register(app)
rights.register(app)
cases.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; nothing was half-applied")
        sys.exit(130)
