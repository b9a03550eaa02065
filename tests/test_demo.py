"""The demo end to end on a small city: deterministic, and every stored score explainable."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialcredit.cli import app

pytestmark = pytest.mark.slow


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(
        app, list(args), env={"SCS_HOME": str(home), "SCS_DATABASE_URL": None, "COLUMNS": "160"}
    )
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_demo_is_deterministic_and_explainable(tmp_path: Path) -> None:
    small = ("demo", "--no-serve", "--people", "1500", "--orgs", "120", "--authorities", "5")
    summary = run(tmp_path / "a", *small)
    for expected in (
        "Synthetic city",
        "Steps",
        "sesame 2026.2",
        "dishonest_judgment_debtors",
        "flight_ban",
        "Due process",  # the tour: one objection, one appeal, the notices
        "the source answered verified",
        "awaits a reviewer",
        "now applies to you",
        "Try next",
    ):
        assert expected in summary
    run(tmp_path / "b", *small)
    exports = {}
    for home in ("a", "b"):
        exports[home] = {
            p: run(tmp_path / home, "scores", "export", "--policy", p)
            for p in ("sesame", "corporate", "rongcheng")
        }
        exports[home]["decisions"] = run(
            tmp_path / home, "decisions", "export", "--policy", "national"
        )
    assert exports["a"] == exports["b"]

    def records(home: str) -> int:
        with sqlite3.connect(tmp_path / home / "scs.db") as db:
            return int(db.execute("SELECT count(*) FROM records").fetchone()[0])

    stored = records("a")
    run(tmp_path / "a", *small)  # the same demo again: nothing new is ingested
    assert records("a") == stored
    assert run(tmp_path / "a", "scores", "export", "--policy", "sesame") == (exports["a"]["sesame"])
    sesame = list(csv.DictReader(io.StringIO(exports["a"]["sesame"])))
    assert len(sesame) > 1000
    for row in sesame[:: len(sesame) // 4]:
        report = json.loads(
            run(tmp_path / "a", "explain", row["subject"], "--policy", "sesame", "--json")
        )
        assert report["score"] == int(row["score"])
        assert report["tier"] == row["tier"]
