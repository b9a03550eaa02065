"""The command line as a new operator meets it: help, version, an unknown policy, no store yet,
an empty store, a busy port, the demo's keys and its "try next" lines (issue 20, item 6)."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from socialcredit.cli import app


def invoke(args: list[str], env: dict[str, Any] | None = None) -> Any:
    return CliRunner().invoke(app, args, env={"COLUMNS": "200", **(env or {})})


def every_command(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found += every_command(sub, (*path, name))
    return found


PYTHON_TYPE = re.compile(r"<\w+(\[[^\]]*\])?>|\b(bool|str|int|float|Path|list\[\w+\])\b(?!-)")


@pytest.mark.parametrize("path", every_command(typer.main.get_command(app)), ids=" ".join)
def test_help_shows_no_python_type(path: tuple[str, ...]) -> None:
    result = invoke([*path, "--help"])
    assert result.exit_code == 0, result.output
    shown = [line for line in result.output.splitlines() if PYTHON_TYPE.search(line)]
    assert shown == []


def test_help_names_what_each_option_takes() -> None:
    explain = invoke(["explain", "--help"]).output
    assert "Usage: scs explain [OPTIONS] SUBJECT" in explain
    assert re.search(r"--policy +NAME ", explain)
    assert re.search(r"--json +Machine", explain)  # a flag takes nothing
    assert re.search(r"--evaluation +ID ", explain)
    evaluate = invoke(["evaluate", "--help"]).output
    assert re.search(r"--as-of +DATE ", evaluate)
    assert re.search(r"--out +FOLDER ", evaluate)
    assert "Usage: scs policy add [OPTIONS] FILE..." in invoke(["policy", "add", "--help"]).output
    assert re.search(r"--measure +MEASURE ", invoke(["keys", "create", "--help"]).output)
    assert "Missing argument 'SUBJECT'" in invoke(["explain", "--policy", "x"]).output


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"scs (socialcredit) {version('socialcredit')}"
