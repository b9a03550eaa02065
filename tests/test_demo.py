"""The demo end to end on a small city: deterministic, and every stored score explainable."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.settings import Settings
from socialcredit.sharing.keys import authenticate
from socialcredit.store.db import create_engine

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
        "Real time",  # a court listing reaches the airline's gate check with no evaluation run
        "the flight ban does not apply → applies",
        "Try next",
        "  scs check flight_ban cn-rid:",  # as it can be run (`scs` is how the test runs it)
        "Serve them with `scs serve --host 127.0.0.1 --port 8000` (with the same SCS_HOME)",
        "/login with a key",
    ):
        assert expected in summary
    # --no-serve still mints a key for each kind of user, for a later `scs serve`
    kept = tmp_path / "a" / "demo-keys.txt"
    assert kept.stat().st_mode & 0o777 == 0o600
    minted = re.findall(r"^    (scs_\S+)$", kept.read_text(), re.MULTILINE)
    assert len(minted) == 5 and all(key in summary for key in minted)
    engine = create_engine(Settings(home=tmp_path / "a"))
    with engine.connect() as conn:
        assert {authenticate(conn, key).role for key in minted} == {
            "operator",
            "auditor",
            "relying_party",
            "subject",
        }
    engine.dispose()
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
