"""Hostile files given to the CLI (issue 21): a malformed policy is a lint error that names the
place, and a number past Python's digit limit is a rejected line; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.settings import Settings

ALICE = "cn-rid:11010519491231002X"


def scs(settings: Settings, *args: str) -> Result:
    env = {
        "SCS_HOME": str(settings.home),
        "SCS_DATABASE_URL": settings.database_url,
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ("? [a]\n: 1\n", "line 1, column 3: not valid YAML (a key must be text or a number"),
        ("[" * 2000 + "]" * 2000, "line 1, column 1001: not valid YAML"),
        ("a: &x [1]\nb: *x\n", "line 1, column 4: anchor &x refused"),
    ],
)
def test_lint_names_the_place_of_a_malformed_policy(
    sqlite_settings: Settings, tmp_path: Path, document: str, where: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(document)
    result = scs(sqlite_settings, "policy", "lint", str(path))
    assert result.exit_code == 1
    assert f"error {where}" in result.output
    added = scs(sqlite_settings, "policy", "add", str(path))
    assert added.exit_code == 2
    assert where in added.output


def test_lint_of_a_file_that_is_not_utf8(sqlite_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"policy: caf\xe9\n")
    result = scs(sqlite_settings, "policy", "lint", str(path))
    assert result.exit_code == 1
    assert "error is not UTF-8 text" in result.output


def test_ingest_and_import_reject_a_number_past_the_digit_limit(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    digits = "1" + "0" * 5000
    people = tmp_path / "people.jsonl"
    people.write_text(
        json.dumps({"identifier": ALICE, "kind": "person", "name": "Alice"})
        + "\n"
        + json.dumps({"identifier": "ext:bob", "kind": "person", "name": "Bob"})[:-1]
        + f', "born": {digits}}}\n'
    )
    imported = scs(sqlite_settings, "subjects", "import", str(people))
    assert imported.exit_code == 1
    assert "Exceeds the limit (4300 digits)" in imported.output
    assert scs(sqlite_settings, "sources", "add", "bank", "--kind", "bank").exit_code == 0
    batch = tmp_path / "batch.jsonl"
    good = {
        "record_id": "r1",
        "subject": ALICE,
        "type": "finance.late",
        "occurred_at": "2026-01-01",
    }
    batch.write_text(
        json.dumps(good)
        + "\n"
        + json.dumps({**good, "record_id": "r2"})[:-1]
        + f', "value": {digits}}}\n'
    )
    ingested = scs(sqlite_settings, "ingest", str(batch), "--source", "bank")
    assert ingested.exit_code == 1
    assert "Exceeds the limit (4300 digits)" in ingested.output
    assert "1 accepted" in ingested.output
