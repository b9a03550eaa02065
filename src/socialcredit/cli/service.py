"""`scs keys`, `scs audit` and `scs serve`: the service, who may call it, and its audit log."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from socialcredit.audit.checkpoint import (
    check_against,
    inclusion,
    latest_checkpoint,
    make_checkpoint,
    public_key,
)
from socialcredit.audit.log import verify
from socialcredit.cli.common import State, check_writable, err, out, state
from socialcredit.errors import InvalidInput
from socialcredit.sharing.keys import ROLES, create_key, list_keys, revoke_key
from socialcredit.timeutil import format_instant

keys_app = typer.Typer(help="API keys: mint, list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(
    help="The audit log: a hash chain and a Merkle tree with signed checkpoints.",
    no_args_is_help=True,
)


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
    rate: Annotated[
        str | None,
        typer.Option(
            help="The key's quota, e.g. 10/s, 600/min, 5000/h (429 past it); default: none."
        ),
    ] = None,
) -> None:
    """Mint a key. The key is printed once, alone on the last line; only its hash is stored."""
    s = state(ctx)
    with s.engine().begin() as conn:
        key, info = create_key(conn, role, subject, source, measure, label, rate)
    quota = f" rate {info.rate}" if info.rate else ""
    s.log("key.create", f"key:{info.prefix} role {info.role}{quota}")
    grants = info.subject or info.source or ", ".join(info.measures or ()) or "-"
    quota = f"; at most {info.rate}" if info.rate else ""
    err.print(
        f"created key {info.prefix} (role {info.role}; {grants}{quota}); it is shown only now:"
    )
    out.print(key)


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """Every key: prefix, role, grants, when created and revoked (never the key itself)."""
    with state(ctx).engine().connect() as conn:
        found = list_keys(conn)
    table = Table("prefix", "role", "grants", "rate", "label", "created", "revoked")
    for k in found:
        grants = k.subject or k.source or ", ".join(k.measures or ()) or ""
        table.add_row(
            k.prefix,
            k.role,
            grants,
            k.rate or "",
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
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="A signed checkpoint kept earlier (`scs audit checkpoint --out`): check its "
            "signature, that the log still hashes to its root, and consistency since."
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="The verifier key to check the signature with (default: the log's)."),
    ] = None,
) -> None:
    """Recompute the hash chain and name the first entry that does not verify; with
    --checkpoint, also prove the log extends that checkpoint."""
    s = state(ctx)
    note = _read_checkpoint(checkpoint) if checkpoint is not None else None
    with s.engine().connect() as conn:
        result = verify(conn, head)
        if not result.ok:
            err.print(
                f"[bold red]audit log broken at entry {result.broken_at}[/]: {result.reason} "
                f"({result.entries:,} entries verified before it)"
            )
            raise typer.Exit(6)
        checked = check_against(conn, note, s.settings, key) if note is not None else None
    out.print(f"audit log verified: {result.entries:,} entries; head {result.head}", soft_wrap=True)
    if checked is None:
        return
    if not checked.ok:
        err.print(f"[bold red]audit log does not match the checkpoint[/]: {checked.reason}")
        raise typer.Exit(6)
    out.print(
        f"consistent with the checkpoint of {checked.old_size:,} entries; the tree now has "
        f"{checked.size:,}, root {checked.root.hex()}",
        soft_wrap=True,
    )


def _read_checkpoint(path: Path) -> str:
    try:
        if path.stat().st_size > 65_536:
            raise InvalidInput("checkpoint", f"{path} is larger than a checkpoint (64 KiB)")
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput("checkpoint", f"cannot read {path} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InvalidInput("checkpoint", f"{path} is not UTF-8 text") from None


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the checkpoint here, not to stdout.")
    ] = None,
) -> None:
    """Sign a checkpoint of the log as it is now (a C2SP signed note) and print or write it.
    Keep it elsewhere: `scs audit verify --checkpoint` later proves the log still extends it."""
    s = state(ctx)
    check_writable(out_file, "out")
    made = make_checkpoint(s.engine(), s.settings)
    if out_file is None:
        typer.echo(made.note, nl=False)
        return
    out_file.write_text(made.note, encoding="utf-8")
    err.print(f"checkpoint of {made.size:,} entries written to {out_file}")


@audit_app.command("prove")
def audit_prove(
    ctx: typer.Context,
    seq: Annotated[int, typer.Argument(min=1, help="The entry's seq.")],
) -> None:
    """Print the proof (JSON) that entry SEQ is in the latest signed checkpoint; signs a new
    checkpoint first when the latest does not cover it."""
    s = state(ctx)
    engine = s.engine()
    with engine.connect() as conn:
        latest = latest_checkpoint(conn)
    if latest is None or latest.size < seq:
        latest = make_checkpoint(engine, s.settings)
    with engine.connect() as conn:
        proof = inclusion(conn, seq, latest)
    typer.echo(orjson.dumps(proof, option=orjson.OPT_INDENT_2).decode())


@audit_app.command("key")
def audit_key(ctx: typer.Context) -> None:
    """Print the verifier key of the checkpoints' signing key (public; never the key itself)."""
    s = state(ctx)
    s.engine()  # no store, no log to sign: refuse rather than mint a key in the current folder
    typer.echo(public_key(s.settings))


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the HTTP API (/v1, OpenAPI at /docs) and the web pages."""
    run_server(state(ctx), host, port)


def check_port(host: str, port: int) -> None:
    """Refuse, before announcing anything, an address the service could not listen on: a port
    another program holds, a privileged port, a host that is not this machine's."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise InvalidInput("host", f"cannot listen on {host!r} ({error.strerror})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise InvalidInput(
                    "port",
                    f"{port} on {host} is already in use by another program (another "
                    f"`scs serve`?); stop it, or choose another port with --port, e.g. "
                    f"--port {_free_port(host, port)}",
                ) from None
            raise InvalidInput(
                "port", f"cannot listen on {host} port {port} ({error.strerror})"
            ) from None


def _free_port(host: str, port: int) -> int:
    """The next port up that is free now (to suggest; it may be taken by the time it is used)."""
    for candidate in range(port + 1, min(port + 100, 65535) + 1):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 1


def run_server(s: State, host: str, port: int) -> None:
    # Imported here, not at the top: FastAPI and uvicorn would add to every other command's
    # start-up time.
    import uvicorn

    from socialcredit.api import create_app
    from socialcredit.api.app import start_refresher
    from socialcredit.api.bounds import bounded_protocol
    from socialcredit.rights.sweep import Sweeper

    check_port(host, port)
    app = create_app(s.settings, s.engine())
    sweeper = None
    if s.settings.sweep_interval > 0:  # deadlines, retention and notice delivery
        sweeper = Sweeper(s.engine(), s.settings, s.settings.sweep_interval)
        sweeper.start()
    # Real time without a broker: refresh after each write, re-base on schedule.
    refresher = start_refresher(app)
    err.print(f"serving on http://{host}:{port}/ (API docs at /docs); Ctrl-C stops")
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            loop="uvloop",
            http=bounded_protocol(s.settings.max_head_bytes),  # httptools, with a bounded head
            log_level="warning",
            access_log=False,  # every access that matters is in the audit log
            # Forwarded headers are believed only from SCS_FORWARDED_ALLOW_IPS, by the app
            # itself (`create_app`), never by uvicorn's own default (which trusts 127.0.0.1).
            proxy_headers=False,
        )
    finally:
        refresher.stop()
        if sweeper is not None:
            sweeper.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.command("serve")(serve)
