"""policy add | list | show | lint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.syntax import Syntax
from rich.table import Table

from socialcredit.cli.common import err, out, state
from socialcredit.errors import InvalidInput
from socialcredit.policy.lint import Finding, lint, lint_file
from socialcredit.policy.load import bundled_packs, load_policy_file
from socialcredit.store.policies import add_policy, get_policy, latest_policies, list_policies

policy_app = typer.Typer(help="Add, list, show and lint policies.", no_args_is_help=True)
COLOURS = {"error": "red", "warning": "yellow", "notice": "cyan"}


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


def _print_findings(source: str, findings: list[Finding]) -> None:
    for f in findings:
        colour = COLOURS[f.level]
        where = f"{f.key}: " if f.key else ""
        err.print(f"{source}: [{colour}]{f.level}[/] {where}{f.message}", highlight=False)


@policy_app.command("add")
def policy_add(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Policy YAML files.")],
) -> None:
    """Store policy documents as new versions. An invalid document is refused."""
    loaded = [load_policy_file(path) for path in files]  # all valid, or nothing is stored
    s = state(ctx)
    with s.engine().begin() as conn:
        added = [add_policy(conn, item) for item in loaded]
    for stored, created in added:
        verb = "added" if created else "unchanged"
        out.print(f"{verb}: {stored.name} {stored.version} ({stored.digest[:12]})")
        if created:
            s.log("policy.add", f"{stored.name} {stored.version}")
    for item in loaded:
        _print_findings(item.policy.name, [f for f in lint(item.policy) if f.level != "notice"])


@policy_app.command("list")
def policy_list(ctx: typer.Context) -> None:
    """List stored policy versions; the latest of each name is in force."""
    with state(ctx).engine().connect() as conn:
        stored = list_policies(conn)
        in_force = {p.id for p in latest_policies(conn)}
    table = Table("name", "version", "in force", "title", "digest", "added")
    for p in stored:
        table.add_row(
            p.name,
            p.version,
            "yes" if p.id in in_force else "",
            p.title,
            p.digest[:12],
            f"{p.added_at:%Y-%m-%d %H:%M}",
        )
    out.print(table)


@policy_app.command("show")
def policy_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Policy name.")],
    version: Annotated[str | None, typer.Option(help="A stored version (default: latest).")] = None,
) -> None:
    """Print a stored policy document as it was written."""
    with state(ctx).engine().connect() as conn:
        stored = get_policy(conn, name, version)
    err.print(f"# {stored.name} {stored.version}, digest {stored.digest}")
    out.print(Syntax(stored.document, "yaml", theme="ansi_dark", background_color="default"))


@policy_app.command("lint")
def policy_lint(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Policy files, or names of bundled packs (default: every bundled pack)."
        ),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
) -> None:
    """Validate policies and report what an auditor would question."""
    packs = bundled_packs()
    failed = False
    for target in targets or sorted(packs):
        path = Path(target)
        if path.is_file():
            findings = lint_file(path)
        elif target in packs:
            findings = lint(packs[target].policy)
        else:
            raise InvalidInput(
                "target",
                f"{target} is neither a file nor a bundled pack ({', '.join(sorted(packs))})",
            )
        _print_findings(target, findings)
        levels = {f.level for f in findings}
        bad = "error" in levels or (strict and "warning" in levels)
        failed |= bad
        counts = ", ".join(
            f"{sum(f.level == lv for f in findings)} {lv}s" for lv in ("error", "warning", "notice")
        )
        out.print(f"{target}: {'[red]fails[/]' if bad else '[green]ok[/]'} ({counts})")
    if failed:
        raise typer.Exit(1)
