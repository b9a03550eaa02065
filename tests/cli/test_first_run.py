"""The command line as a new operator meets it: help, version, an unknown policy, no store yet,
an empty store, a busy port, the demo's keys and its "try next" lines (issue 20, item 6)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.cli.common import command_prefix
from socialcredit.settings import Settings


def invoke(args: list[str], env: dict[str, Any] | None = None) -> Any:
    return CliRunner().invoke(app, args, env={"COLUMNS": "1000", **(env or {})})


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


PACKS = sorted((Path(__file__).parents[2] / "src/socialcredit/policy/packs").glob("*.yaml"))
SOMEONE = "cn-rid:37108219800517011X"


def on(home: Path, *args: str, code: int = 0) -> str:
    result = invoke(list(args), {"SCS_HOME": str(home), "SCS_DATABASE_URL": None})
    assert result.exit_code == code, (args, result.output, result.exception)
    return str(result.output)


@pytest.mark.parametrize(
    "args",
    [
        ("explain", SOMEONE, "--policy", "sesam"),
        ("evaluate", "--policy", "sesam"),
        ("check", "flight_ban", SOMEONE, "--policy", "sesam"),
        ("scores", "export", "--policy", "sesam"),
        ("decisions", "export", "--policy", "sesam"),
        ("evaluations", "list", "--policy", "sesam"),
        ("policy", "show", "sesam"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_an_unknown_policy_is_named_with_the_known_ones(
    sqlite_settings: Settings, args: tuple[str, ...]
) -> None:
    on(sqlite_settings.home, "policy", "add", *map(str, PACKS))
    said = on(sqlite_settings.home, *args, code=3)
    assert "no policy 'sesam' (did you mean 'sesame'?)" in said
    assert "the stored policies are corporate, national, rongcheng, sesame" in said
    assert "scs evaluate" not in said  # no advice to run what would fail the same way
    far = on(
        sqlite_settings.home, *[a if a != "sesam" else "nothing-like-it" for a in args], code=3
    )
    assert "no policy 'nothing-like-it'; the stored policies are" in far


def test_a_policy_known_but_never_evaluated_says_to_evaluate_it(sqlite_settings: Settings) -> None:
    on(sqlite_settings.home, "policy", "add", *map(str, PACKS))
    said = on(sqlite_settings.home, "scores", "export", "--policy", "sesame", code=3)
    assert "policy 'sesame' has no current evaluation; run `scs evaluate --policy sesame`" in said


READ_ONLY = [
    ("evaluations", "list"),
    ("evaluate",),
    ("explain", SOMEONE, "--policy", "sesame"),
    ("check", "flight_ban", SOMEONE),
    ("sources", "list"),
    ("policy", "list"),
    ("scores", "export", "--policy", "sesame"),
    ("keys", "list"),
    ("audit", "verify"),
    ("audit", "key"),
    ("notices", "list"),
    ("serve",),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_no_store_creates_nothing_and_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(list(args), {"SCS_HOME": None, "SCS_DATABASE_URL": None})
    assert result.exit_code == 5, result.output
    assert f"no store at {tmp_path / 'scs-data' / 'scs.db'}" in result.output
    assert "SCS_HOME is not set" in result.output and "scs init" in result.output
    assert list(tmp_path.iterdir()) == []


def test_no_store_under_scs_home_names_it(tmp_path: Path) -> None:
    said = on(tmp_path / "elsewhere", "policy", "list", code=5)
    assert f"no store at {tmp_path / 'elsewhere' / 'scs.db'} (SCS_HOME is {tmp_path}" in said
    assert not (tmp_path / "elsewhere").exists()
    on(tmp_path / "elsewhere", "init")  # a command that creates the store may
    assert "name" in on(tmp_path / "elsewhere", "policy", "list")


def test_evaluate_says_what_is_missing(sqlite_settings: Settings) -> None:
    home = sqlite_settings.home
    said = on(home, "evaluate", code=3)
    assert "nothing to evaluate: the store has no policy" in said and "scs policy add" in said
    on(home, "policy", "add", *map(str, PACKS))
    said = on(home, "evaluate", "--policy", "sesame")
    assert "the store has no subjects and no records yet" in said and "scs ingest" in said
    on(home, "subjects", "import", str(Path(__file__).parents[1] / "fixtures/village/subjects.csv"))
    said = on(home, "evaluate", "--policy", "sesame")  # subjects, no records: it runs, and says
    assert "the store has no records yet" in said and "scs ingest" in said


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_serve_on_a_busy_port_says_so_once(sqlite_settings: Settings, busy_port: int) -> None:
    said = on(sqlite_settings.home, "serve", "--port", str(busy_port), code=2)
    assert f"port: {busy_port} on 127.0.0.1 is already in use by another program" in said
    assert re.search(r"choose another port with --port, e\.g\. --port \d+", said)
    assert "serving on" not in said and "Errno" not in said
    assert len(said.strip().splitlines()) == 1


def test_the_demo_checks_its_port_before_building_anything(tmp_path: Path, busy_port: int) -> None:
    said = on(tmp_path / "city", "demo", "--people", "10", "--port", str(busy_port), code=2)
    assert "already in use" in said
    assert not (tmp_path / "city").exists()


@pytest.mark.parametrize(
    ("argv0", "executable", "expected"),
    [
        (".venv/bin/scs", "/usr/bin/python3", ".venv/bin/scs"),  # make demo
        ("scs", "/usr/bin/python3", "./scs"),
        ("/opt/elsewhere/bin/scs", "/usr/bin/python3", "/opt/elsewhere/bin/scs"),
        (
            "/src/socialcredit/cli/__main__.py",
            "/opt/venv/bin/python",
            "/opt/venv/bin/python -m socialcredit.cli",
        ),
        ("/usr/lib/python3/pytest", "/usr/bin/python3", "scs"),
    ],
)
def test_suggested_commands_run_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv0: str, executable: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no scs on the PATH
    assert command_prefix(argv0, executable) == expected


def test_scs_on_the_path_is_suggested_as_scs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    (bin_folder / "scs").write_text("#!/bin/sh\n")
    (bin_folder / "scs").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_folder))
    assert command_prefix(str(bin_folder / "scs"), "/usr/bin/python3") == "scs"
    assert command_prefix("/opt/other/scs", "/usr/bin/python3") == "/opt/other/scs"
