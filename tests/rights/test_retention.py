"""Retention: negative records are purged by the sweep on the day after their limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.policy.load import load_policy
from socialcredit.rights.retention import negative_limits
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.records import current_status
from socialcredit.store.schema import audit_log, record_status, records
from tests.api.conftest import PACKS, VILLAGE, scs
from tests.rights.conftest import ingest

FATHER = "cn-rid:37108219800517011X"
# 2020-01-01 + 5y (1,825 days; 2020 and 2024 are leap years) = 2024-12-30: the limit. The sweep
# purges from the next day on.
LAST_KEPT = "2024-12-30T23:59:59.999999Z"
FIRST_PURGED = "2024-12-31T00:00:00Z"


@pytest.fixture
def old_records(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SCS_NOW", "2024-06-01T00:00:00Z")
    scs(settings, "sources", "add", "court", "--kind", "court", "--types", "court.*")
    scs(settings, "subjects", "import", str(VILLAGE / "subjects.csv"))
    rows = [
        # enters a black list: negative under the national pack
        f"old-bad,{FATHER},court.dishonest.refuses_to_perform,2020-01-01,5000",
        f"old-good,{FATHER},court.judgment.fulfilled,2020-01-01,5000",  # not negative
        f"new-bad,{FATHER},court.dishonest.refuses_to_perform,2021-01-01,7000",
    ]
    ingest(settings, tmp_path, "court", rows, "old")
    scs(settings, "policy", "add", str(PACKS / "national.yaml"))
    return settings


def _state(settings: Settings) -> dict[str, tuple[str, float | None]]:
    engine = create_engine(settings)
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(records.c.id, records.c.record_id, records.c.value)))
        status = current_status(conn, [r.id for r in rows])
    engine.dispose()
    return {r.record_id: (status.get(r.id, "active"), r.value) for r in rows}


def _sweep_all(settings: Settings, monkeypatch: pytest.MonkeyPatch, at: str) -> dict[str, Any]:
    """`scs rights sweep --format json` at `at`: counts, evaluations, webhook."""
    monkeypatch.setenv("SCS_NOW", at)
    result: dict[str, Any] = json.loads(scs(settings, "rights", "sweep", "--format", "json"))
    return result


def _sweep(settings: Settings, monkeypatch: pytest.MonkeyPatch, at: str) -> dict[str, int]:
    counts: dict[str, int] = _sweep_all(settings, monkeypatch, at)["counts"]
    return counts


def test_a_negative_record_is_purged_on_the_day_after_its_limit(
    old_records: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _sweep(old_records, monkeypatch, LAST_KEPT)["records_purged"] == 0
    assert _state(old_records)["old-bad"] == ("active", 5000.0)
    swept = _sweep_all(old_records, monkeypatch, FIRST_PURGED)
    counts = swept["counts"]
    assert counts["records_purged"] == 1
    state = _state(old_records)
    assert state["old-bad"] == ("purged", None)
    assert state["old-good"] == ("active", 5000.0)  # not negative under any policy: kept
    assert state["new-bad"] == ("active", 7000.0)  # within its five years
    engine = create_engine(old_records)
    with engine.connect() as conn:
        tombstone = conn.execute(
            sa.select(record_status).where(record_status.c.status == "purged")
        ).one()
        assert tombstone.actor == "system:sweep"
        assert "1825 days" in tombstone.reason and "national" in tombstone.reason
        attrs = conn.execute(
            sa.select(records.c.attrs).where(records.c.record_id == "old-bad")
        ).scalar_one()
        assert attrs is None
        entries = list(
            conn.execute(sa.select(audit_log).where(audit_log.c.action == "record.purge"))
        )
        assert [(e.actor, e.target) for e in entries] == [("system:sweep", "court/old-bad")]
    engine.dispose()
    # the purge changed the log: the sweep evaluated every policy in force at once
    assert len(swept["evaluations"]) == 1  # the national pack, the one policy in force
    # idempotent: nothing more to do at the same instant, or the next day
    assert _sweep(old_records, monkeypatch, FIRST_PURGED)["records_purged"] == 0
    assert _sweep(old_records, monkeypatch, "2025-01-01T00:00:00Z")["records_purged"] == 0
    assert _sweep(old_records, monkeypatch, "2026-01-01T00:00:00Z")["records_purged"] == 1


def test_a_sweep_with_nothing_due_changes_nothing(
    old_records: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(old_records)
    counts = _sweep(old_records, monkeypatch, "2024-07-01T00:00:00Z")
    assert counts["records_purged"] == 0 and counts["notices_made"] == 0
    assert _state(old_records) == before


SHORT = """
policy: short
version: "1"
title: Short memory
subjects: [person]
model: points
scale: {min: 0, max: 2000}
base: 1000
categories: {money: {}}
retention: {negative: 2y}
rules:
  - {type: finance.payment.late, category: money, points: -5, reason: Late}
  - {type: finance.payment.*, category: money, points: 2, reason: Paid}
  - {type: finance.loan.default, category: money, per_unit: -0.1, reason: Default}
  - {type: civic.volunteer, category: money, points: 3, reason: Volunteering}
lists:
  - {name: bad, kind: black, enter: [court.dishonest.*], duration: 1y}
  - {name: good, kind: red, enter: [civic.award], duration: 1y}
"""


def test_which_records_are_negative_and_the_shortest_limit_wins() -> None:
    short = load_policy(SHORT, source="short").policy
    national = load_policy((PACKS / "national.yaml").read_text(), source="national").policy
    sesame = load_policy((PACKS / "sesame.yaml").read_text(), source="sesame").policy
    assert sesame.retention is None and national.retention is not None
    types = [
        "finance.payment.late",
        "finance.payment.on_time",
        "finance.loan.default",
        "civic.volunteer",
        "civic.award",
        "court.dishonest.refuses_to_perform",
    ]
    limits = negative_limits([national, short, sesame], types)
    assert {t: (limit.days, limit.by) for t, limit in limits.items()} == {
        "finance.payment.late": (730, "policy short"),  # the most specific rule is negative
        "finance.loan.default": (730, "policy short"),  # negative per_unit
        "court.dishonest.refuses_to_perform": (730, "policy short"),  # both hold it; 2y < 5y
    }


def test_a_source_s_retention_purges_its_negative_records_only(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCS_NOW", "2023-06-01T00:00:00Z")
    scs(settings, "sources", "add", "bank", "--kind", "bank", "--types", "finance.*")
    output = scs(
        settings,
        "sources",
        "add",
        "lender",
        "--kind",
        "bank",
        "--types",
        "finance.*",
        "--retention",
        "1y",
    )
    assert "negative records kept 365 days" in output
    scs(settings, "subjects", "import", str(VILLAGE / "subjects.csv"))
    late = f"{FATHER},finance.payment.late,2023-01-01,30"
    paid = f"{FATHER},finance.repayment.on_time,2023-01-01,3"
    ingest(settings, tmp_path, "lender", [f"l-late,{late}", f"l-paid,{paid}"], "lender")
    ingest(settings, tmp_path, "bank", [f"b-late,{late}"], "bank")
    scs(settings, "policy", "add", str(PACKS / "sesame.yaml"))  # late payments are negative
    # 2023-01-01 + 365 days = 2024-01-01, the limit; purged from 2024-01-02 on
    assert _sweep(settings, monkeypatch, "2024-01-01T23:59:59Z")["records_purged"] == 0
    assert _sweep(settings, monkeypatch, "2024-01-02T00:00:00Z")["records_purged"] == 1
    state = _state(settings)
    assert state["l-late"] == ("purged", None)
    assert state["l-paid"] == ("active", 3.0)  # not negative: the source's limit does not apply
    assert state["b-late"] == ("active", 30.0)  # another source, no limit (sesame sets none)
    engine = create_engine(settings)
    with engine.connect() as conn:
        reason = conn.execute(
            sa.select(record_status.c.reason).where(record_status.c.status == "purged")
        ).scalar_one()
    engine.dispose()
    assert reason == "retention: negative records are kept 365 days (source lender)"


def test_a_bad_source_retention_is_refused(settings: Settings) -> None:
    from typer.testing import CliRunner

    from socialcredit.cli import app

    result = CliRunner().invoke(
        app,
        ["sources", "add", "x", "--kind", "bank", "--retention", "five years"],
        env={"SCS_HOME": str(settings.home), "SCS_DATABASE_URL": settings.database_url},
    )
    assert result.exit_code == 2
    assert "retention" in result.output and "not a duration" in result.output
    assert "x " not in scs(settings, "sources", "list")  # nothing was registered
