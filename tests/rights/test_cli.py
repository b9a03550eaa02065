"""`scs appeals` and `scs repair` end to end: ids on the last line, JSON lists, exit codes, the
audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from socialcredit.cli import app
from socialcredit.settings import Settings
from socialcredit.store.schema import audit_log
from tests.rights.conftest import CHILD, DEBTOR, T0, at, evaluate, send


def scs(settings: Settings, *args: str) -> Result:
    env = {"SCS_HOME": str(settings.home), "SCS_DATABASE_URL": settings.database_url or ""}
    if not settings.database_url:
        del env["SCS_DATABASE_URL"]
    return CliRunner().invoke(app, list(args), env={**env, "COLUMNS": "200"})


def ok(settings: Settings, *args: str) -> str:
    result = scs(settings, *args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def actions(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.seq)).scalars())


def test_appeal_and_override_from_the_command_line(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(0, monkeypatch)
    evaluate(store, settings)
    filed = ok(settings, "appeals", "file", "flight_ban", "--subject", DEBTOR, "--policy", "n",
               "--grounds", "paid in full")  # fmt: skip
    appeal_id = filed.strip().splitlines()[-1]
    assert appeal_id.isdigit()
    again = scs(settings, "appeals", "file", "flight_ban", "--subject", DEBTOR, "--policy", "n",
                "--grounds", "again")  # fmt: skip
    assert again.exit_code == 4 and f"appeal {appeal_id} of this decision" in again.output
    unknown = scs(settings, "appeals", "file", "rail_ban", "--subject", DEBTOR, "--policy", "n",
                  "--grounds", "x")  # fmt: skip
    assert unknown.exit_code == 3 and "rail_ban" in unknown.output
    listed = json.loads(ok(settings, "appeals", "list", "--open", "--format", "json"))
    assert [(a["id"], a["status"], a["overdue"]) for a in listed] == [
        (int(appeal_id), "open", False)
    ]
    at(30, monkeypatch)
    overdue = json.loads(ok(settings, "appeals", "list", "--overdue", "--format", "json"))
    assert [a["id"] for a in overdue] == [int(appeal_id)]
    both = scs(settings, "appeals", "decide", appeal_id, "--uphold", "--override", "--note", "x")
    assert both.exit_code == 2 and "choose one" in both.output
    until = (T0 + timedelta(days=60)).date().isoformat()
    decided = ok(settings, "appeals", "decide", appeal_id, "--override", "--until", until,
                 "--note", "receipt checked")  # fmt: skip
    assert "overridden until 2026-04-30" in decided
    check = json.loads(ok(settings, "check", "flight_ban", DEBTOR))
    assert check["applies"] is False
    shown = json.loads(ok(settings, "appeals", "show", appeal_id, "--format", "json"))
    assert [e["what"] for e in shown["timeline"]] == [
        "appeal filed",
        "override granted: the measure is lifted",
        "the override ends",
    ]
    table = ok(settings, "appeals", "list")
    assert f"{appeal_id} " in table and "overridden" in table and DEBTOR in table
    shown_table = ok(settings, "appeals", "show", appeal_id)
    assert "the override ends" in shown_table and "receipt checked" in shown_table
    bad_format = scs(settings, "appeals", "list", "--format", "xml")
    assert bad_format.exit_code == 2 and "format: 'xml' is not table or json" in bad_format.output
    assert {"appeal.file", "appeal.list", "appeal.decide", "appeal.read"} <= set(actions(store))


def test_repair_from_the_command_line(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(store, "c1", DEBTOR, "credit.commitment.signed", T0 - timedelta(days=2))
    at(0, monkeypatch)
    evaluate(store, settings)
    refused = scs(settings, "repair", "apply", "debtors", "--subject", CHILD, "--policy", "n")
    assert refused.exit_code == 4 and "not on the list debtors" in refused.output
    nolist = scs(settings, "repair", "apply", "nope", "--subject", DEBTOR, "--policy", "n")
    assert nolist.exit_code == 3 and "no list 'nope'" in nolist.output
    applied = ok(settings, "repair", "apply", "debtors", "--subject", DEBTOR, "--policy", "n")
    application = applied.strip().splitlines()[-1]
    listed = json.loads(ok(settings, "repair", "list", "--format", "json"))
    assert listed[0]["proof"] == {"record": "court/c1", "type": "credit.commitment.signed"}
    missing_note = scs(settings, "repair", "decide", application, "--approve", "--note", " ")
    assert missing_note.exit_code == 2 and "note: is required" in missing_note.output
    assert "approved" in ok(settings, "repair", "decide", application, "--approve", "--note", "ok")
    evaluate(store, settings)
    assert json.loads(ok(settings, "check", "flight_ban", DEBTOR))["applies"] is False
    shown = ok(settings, "repair", "show", application)
    assert "approved" in shown and "rights/repair-" in shown
    assert {"repair.apply", "repair.list", "repair.decide"} <= set(actions(store))
