"""Fixtures of the due-process tests (SQLite and PostgreSQL): the village on an empty store,
evaluated at 2026-06-01; and a small store with a listed debtor and the debtor's child, with the
clock frozen (SCS_NOW) before it is built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.ingest.accept import accept_records
from socialcredit.ingest.files import import_relationships_file, import_subjects_file
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.policy.load import load_policy
from socialcredit.settings import Settings
from socialcredit.store.db import writing
from socialcredit.store.policies import add_policy
from socialcredit.store.sources import add_source, get_source
from socialcredit.timeutil import format_instant
from tests.api.conftest import build_village, scs


@pytest.fixture
def village(settings: Settings) -> Settings:
    build_village(settings)
    return settings


def ingest(settings: Settings, tmp_path: Path, source: str, rows: list[str], name: str) -> None:
    """Send `rows` (CSV lines after the header) as `source`."""
    path = tmp_path / f"{name}.csv"
    path.write_text("record_id,subject,type,occurred_at,value\n" + "\n".join(rows) + "\n")
    scs(settings, "ingest", str(path), "--source", source)


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


POLICY = """
policy: n
version: "1"
title: debtors
subjects: [person]
model: none
lists:
  - name: debtors
    kind: black
    enter: [court.dishonest.refuses]
    exit: [court.judgment.fulfilled, credit.repair.approved]
    duration: 2y
    repair: {min_time: 1y, proof: [credit.commitment.signed], exit: credit.repair.approved}
  - {name: watched, kind: black, enter: [police.watch], duration: 2y}
measures:
  - name: flight_ban
    kind: restriction
    authority: aviation
    when: {any: [{on_list: debtors}, {on_list: watched}]}
    targets: [self, dependents]
    reason: listed as a dishonest judgment debtor
"""
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DEBTOR, CHILD, OTHER = "ext:debtor", "ext:child", "ext:other"
ACTOR = "cli:tester"


def at(days: float, clock: pytest.MonkeyPatch) -> datetime:
    moment = T0 + timedelta(days=days)
    clock.setenv("SCS_NOW", format_instant(moment) or "")
    return moment


@pytest.fixture
def store(engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    at(-400, monkeypatch)
    people = tmp_path / "people.csv"
    people.write_text(
        "identifier,kind,name\n"
        f"{DEBTOR},person,Debtor\n{CHILD},person,Child\n{OTHER},person,Other\n"
    )
    import_subjects_file(engine, people)
    edges = tmp_path / "edges.csv"
    edges.write_text(f"from,to,kind\n{DEBTOR},{CHILD},guardian\n")
    import_relationships_file(engine, edges)
    with engine.begin() as conn:
        add_source(conn, "court", "court")
        add_policy(conn, load_policy(POLICY))
    send(engine, "d1", DEBTOR, "court.dishonest.refuses", T0 - timedelta(days=400))
    return engine


def send(engine: sa.Engine, record_id: str, subject: str, kind: str, when: datetime) -> None:
    row = {"record_id": record_id, "subject": subject, "type": kind}
    row["occurred_at"] = format_instant(when) or ""
    with writing(engine) as conn:
        report = accept_records(conn, get_source(conn, "court"), [(1, row)], when)
    assert report.accepted == 1, report.rejected


def evaluate(engine: sa.Engine, settings: Settings, known_at: datetime | None = None) -> int:
    return run_evaluations(engine, settings, known_at=known_at).results[0].evaluation_id
