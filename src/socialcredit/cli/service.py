"""`scs keys`, `scs audit verify` and `scs serve`: the service and who may call it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from socialcredit.audit.log import verify
from socialcredit.cli.common import State, err, out, state
from socialcredit.sharing.keys import ROLES, create_key, list_keys, revoke_key
from socialcredit.timeutil import format_instant

keys_app = typer.Typer(help="API keys: mint, list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    subject: Annotated[
        str | None, typer.Option(help="The subject a subject key belongs to (scheme:value).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="The source a source key posts as.")] = None,
    measure: Annotated[
        list[str] | None,
        typer.Option(help="A measure a relying party may check (repeat for several)."),
    ] = None,
    label: Annotated[str, typer.Option(help="Who holds the key, for `keys list`.")] = "",
) -> None:
    """Mint a key. The key is printed once, alone on the last line; only its hash is stored."""
    s = state(ctx)
    with s.engine().begin() as conn:
        key, info = create_key(conn, role, subject, source, measure, label)
    s.log("key.create", f"key:{info.prefix} role {info.role}")
    grants = info.subject or info.source or ", ".join(info.measures or ()) or "-"
    err.print(f"created key {info.prefix} (role {info.role}; {grants}); it is shown only now:")
    out.print(key)


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """Every key: prefix, role, grants, when created and revoked (never the key itself)."""
    with state(ctx).engine().connect() as conn:
        found = list_keys(conn)
    table = Table("prefix", "role", "grants", "label", "created", "revoked")
    for k in found:
        grants = k.subject or k.source or ", ".join(k.measures or ()) or ""
        table.add_row(
            k.prefix,
            k.role,
            grants,
            k.label,
            format_instant(k.created_at),
            format_instant(k.revoked_at) if k.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    prefix: Annotated[str, typer.Argument(help="The key's prefix (see `scs keys list`).")],
) -> None:
    """Revoke a key. A running service refuses it within two seconds."""
    s = state(ctx)
    with s.engine().begin() as conn:
        info = revoke_key(conn, prefix)
    s.log("key.revoke", f"key:{info.prefix}")
    out.print(f"revoked {info.prefix} ({info.role}) at {format_instant(info.revoked_at)}")


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    head: Annotated[
        str | None,
        typer.Option(help="A head hash printed earlier: check the chain still contains it."),
    ] = None,
) -> None:
    """Recompute the hash chain and name the first entry that does not verify."""
    with state(ctx).engine().connect() as conn:
        result = verify(conn, head)
    if result.ok:
        out.print(
            f"audit log verified: {result.entries:,} entries; head {result.head}", soft_wrap=True
        )
        return
    err.print(
        f"[bold red]audit log broken at entry {result.broken_at}[/]: {result.reason} "
        f"({result.entries:,} entries verified before it)"
    )
    raise typer.Exit(6)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the HTTP API (/v1, OpenAPI at /docs) and the web pages."""
    run_server(state(ctx), host, port)


def run_server(s: State, host: str, port: int) -> None:
    # Imported here, not at the top: FastAPI and uvicorn would add to every other command's
    # start-up time.
    import uvicorn

    from socialcredit.api import create_app
    from socialcredit.rights.sweep import Sweeper

    app = create_app(s.settings, s.engine())
    sweeper = None
    if s.settings.sweep_interval > 0:  # deadlines, retention and notice delivery
        sweeper = Sweeper(s.engine(), s.settings, s.settings.sweep_interval)
        sweeper.start()
    err.print(f"serving on http://{host}:{port}/ (API docs at /docs); Ctrl-C stops")
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            log_level="warning",
            access_log=False,  # every access that matters is in the audit log
        )
    finally:
        if sweeper is not None:
            sweeper.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.command("serve")(serve)
