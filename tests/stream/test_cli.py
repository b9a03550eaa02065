"""`scs stream …` as a person types it: the commands over a real broker, and the errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.settings import Settings
from tests.conftest import FIXTURES
from tests.stream.broker import Broker, free_port

VILLAGE = FIXTURES / "village"


def invoke(args: list[str], env: dict[str, Any]) -> Any:
    return CliRunner().invoke(app, args, env={"COLUMNS": "200", **env})


def test_the_stream_commands_end_to_end(sqlite_settings: Settings, broker: Broker) -> None:
    env = {
        "SCS_HOME": str(sqlite_settings.home),
        "SCS_NATS_URL": broker.url,
        "SCS_NATS_MONITOR_URL": broker.monitor_url,
    }
    added = invoke(["sources", "add", "court", "--kind", "court", "--types", "court.*"], env)
    assert added.exit_code == 0, added.output
    imported = invoke(["subjects", "import", str(VILLAGE / "subjects.csv")], env)
    assert imported.exit_code == 0, imported.output
    init = invoke(["stream", "init"], env)
    assert init.exit_code == 0, init.output
    assert "SCS_RECORDS created" in init.output and "verified" in init.output
    published = invoke(["stream", "publish", str(VILLAGE / "court.csv"), "--source", "court"], env)
    assert published.exit_code == 0, published.output
    assert "3 published and acknowledged" in published.output
    bad = invoke(["stream", "publish", str(VILLAGE / "police.jsonl"), "--source", "court"], env)
    assert bad.exit_code == 0, bad.output
    status = invoke(["stream", "status"], env)
    assert status.exit_code == 0 and "scs-worker pending" in status.output
    ran = invoke(["stream", "run", "--wait", "0.2", "--idle-exit", "1", "--quiet"], env)
    assert ran.exit_code == 0, ran.output
    assert "5 messages in 1 batches: 3 accepted, 0 already stored, 2 rejected" in ran.output
    listed = invoke(["stream", "rejects", "--format", "json"], env)
    assert listed.exit_code == 0, listed.output
    rejects = json.loads(listed.output)
    assert [r["record_id"] for r in rejects] == ["p-1", "p-2"]
    assert rejects[0]["reasons"][0]["field"] == "type"
    table = invoke(["stream", "rejects", "--source", "court"], env)
    assert "2 rejected records" in table.output


def test_an_unreachable_broker_is_exit_10_and_says_where(tmp_path: Path) -> None:
    env = {"SCS_HOME": str(tmp_path), "SCS_NATS_URL": f"nats://127.0.0.1:{free_port()}"}
    for args in (["stream", "status"], ["stream", "init"], ["stream", "rejects"]):
        result = invoke(args, env)
        assert result.exit_code == 10, result.output
        assert "cannot reach the NATS server at nats://127.0.0.1:" in result.output
        assert "SCS_NATS_URL" in result.output


def test_a_stream_that_was_never_made_says_to_init(broker: Broker, tmp_path: Path) -> None:
    result = invoke(["stream", "status"], {"SCS_HOME": str(tmp_path), "SCS_NATS_URL": broker.url})
    assert result.exit_code == 10, result.output
    assert "scs stream init" in result.output


def test_a_source_that_cannot_be_a_subject_is_refused(broker: Broker, tmp_path: Path) -> None:
    env = {"SCS_HOME": str(tmp_path), "SCS_NATS_URL": broker.url}
    result = invoke(["stream", "publish", str(VILLAGE / "court.csv"), "--source", "court."], env)
    assert result.exit_code == 2, result.output
    assert "cannot be part of a NATS subject" in result.output
