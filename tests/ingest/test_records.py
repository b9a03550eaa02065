"""Record ingestion: per-row accept/reject with line, field and reason; idempotent; atomic."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from socialcredit.ingest.accept import OPTIONAL, REQUIRED, accept_records
from socialcredit.ingest.readers import read_rows
from socialcredit.ingest.registry import import_subjects
from socialcredit.ingest.report import Report
from socialcredit.store import records as record_log
from socialcredit.store.schema import record_status, records
from socialcredit.store.sources import add_source, get_source

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ALICE = "cn-rid:11010519491231002X"
BOB = "cn-rid:440524188001010014"
ACME = "cn-uscc:91110000802100433B"


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        add_source(conn, "bank", "bank", types=["finance.*"])
        add_source(conn, "court", "court", types=["court.*"])
        rows = [
            (2, {"identifier": ALICE, "kind": "person", "name": "Alice", "region": "110105"}),
            (3, {"identifier": BOB, "kind": "person", "name": "Bob", "region": "440524"}),
            (4, {"identifier": ACME, "kind": "organization", "name": "Acme", "region": "110000"}),
        ]
        assert import_subjects(conn, rows, NOW).accepted == 3
    return engine


def ingest(engine: sa.Engine, path: Path, source: str = "bank") -> Report:
    with engine.begin() as conn:
        return accept_records(
            conn, get_source(conn, source), read_rows(path, REQUIRED, OPTIONAL), NOW
        )


def count(engine: sa.Engine, table: sa.Table = records) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


GOOD_AND_BAD = f"""
record_id,subject,type,occurred_at,value
r1,{ALICE},finance.payment.late,2026-03-01T10:00:00+08:00,12
r2,{BOB},finance.loan.repaid,2026-03-02,
r3,cn-rid:11010519491231002Y,finance.payment.late,2026-03-01,1
r4,{ALICE},court.judgment.issued,2026-03-01,1
r5,{ALICE},finance.payment.late,03/01/2026,1
r6,{ALICE},finance.payment.late,2027-01-01,1
r7,cn-rid:110105194912310021,finance.payment.late,2026-03-01,1
r8,cn-rid:34052419800101001X,finance.payment.late,2026-03-01,1
,{ALICE},finance.payment.late,2026-03-01,1
r9,{ALICE},Finance-Late,2026-03-01,1
r10,{ALICE},finance.payment.late,2026-03-01,twelve
r1,{ALICE},finance.payment.late,2026-03-01,1
r11,{ACME},finance.payment.late,2026-03-01,nan
"""


def test_each_row_is_accepted_or_rejected_with_line_field_and_reason(
    store: sa.Engine, tmp_path: Path
) -> None:
    report = ingest(store, write(tmp_path / "batch.csv", GOOD_AND_BAD))
    assert (report.total, report.accepted, report.unchanged) == (13, 2, 0)
    found = {(r.line, r.field): r.reason for r in report.rejected}
    assert "check character" in found[(4, "subject")]
    assert "may not submit 'court.judgment.issued'" in found[(5, "type")]
    assert "not an ISO 8601" in found[(6, "occurred_at")]
    assert "in the future" in found[(7, "occurred_at")]
    assert "check character" in found[(8, "subject")]
    assert "not registered" in found[(9, "subject")]
    assert found[(10, "record_id")] == "is required"
    assert "not a record type" in found[(11, "type")]
    assert "not a number" in found[(12, "value")]
    assert "repeats line 2" in found[(13, "record_id")]
    assert "not a finite number" in found[(14, "value")]
    assert count(store) == 2
    with store.connect() as conn:
        stored = conn.execute(sa.select(records).where(records.c.record_id == "r1")).one()
    assert stored.occurred_at == datetime(2026, 3, 1, 2, tzinfo=UTC)  # +08:00 → UTC
    assert stored.value == 12
    assert stored.received_at == NOW


def test_reingesting_changes_nothing(store: sa.Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "batch.csv", GOOD_AND_BAD)
    ingest(store, path)
    again = ingest(store, path)
    assert (again.accepted, again.unchanged) == (0, 2)
    assert count(store) == 2


def test_supersedes(store: sa.Engine, tmp_path: Path) -> None:
    first = f"""
record_id,subject,type,occurred_at,value,supersedes
a,{ALICE},finance.payment.late,2026-03-01,10,
b,{BOB},finance.payment.late,2026-03-01,10,
"""
    ingest(store, write(tmp_path / "one.csv", first))
    second = f"""
record_id,subject,type,occurred_at,value,supersedes
a2,{ALICE},finance.payment.late,2026-03-01,4,a
a3,{ALICE},finance.payment.late,2026-03-01,5,a
x,{ALICE},finance.payment.late,2026-03-01,5,nothing
y,{ALICE},finance.payment.late,2026-03-01,5,b
c,{BOB},finance.payment.late,2026-03-02,1,
c2,{BOB},finance.payment.late,2026-03-02,2,c
self,{BOB},finance.payment.late,2026-03-02,2,self
"""
    report = ingest(store, write(tmp_path / "two.csv", second))
    found = {r.line: r.reason for r in report.rejected}
    assert report.accepted == 3  # a2, c, c2
    assert "already superseded by 'a2'" in found[3]
    assert "no record 'nothing'" in found[4]
    assert "about another subject" in found[5]
    assert "cannot supersede itself" in found[8]
    with store.connect() as conn:
        stored = record_log.lookup(conn, "bank", ["a", "a2", "c", "b"])
    assert stored["a"].status == "superseded"
    assert stored["c"].status == "superseded"
    assert stored["a2"].status == stored["b"].status == "active"
    third = ingest(
        store,
        write(
            tmp_path / "three.csv",
            f"""
record_id,subject,type,occurred_at,value,supersedes
a4,{ALICE},finance.payment.late,2026-03-01,4,a
""",
        ),
    )
    assert "already superseded" in third.rejected[0].reason
    assert count(store, record_status) == 2


def test_jsonl_and_parquet(store: sa.Engine, tmp_path: Path) -> None:
    lines = [
        {
            "record_id": "j1",
            "subject": ALICE,
            "type": "finance.payment.late",
            "occurred_at": "2026-02-01T00:00:00Z",
            "value": 3,
            "attrs": {"loan": "L-1"},
        },
        {
            "record_id": "j2",
            "subject": ALICE,
            "type": "finance.payment.late",
            "occurred_at": "2026-02-01",
            "attrs": "[1, 2]",
        },
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n\n[1]\n")
    report = ingest(store, path)
    assert report.accepted == 1
    assert {(r.line, r.field) for r in report.rejected} == {(2, "attrs"), (3, "line"), (5, "line")}
    with store.connect() as conn:
        attrs = conn.execute(sa.select(records.c.attrs).where(records.c.record_id == "j1"))
        assert attrs.scalar_one() == {"loan": "L-1"}
    table = pa.table(
        {
            "record_id": ["p1", "p2"],
            "subject": [BOB, BOB],
            "type": ["finance.payment.late", "finance.payment.late"],
            "occurred_at": pa.array(
                [datetime(2026, 1, 5, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")
            ),
            "value": [1.5, 2.0],
        }
    )
    pq.write_table(table, tmp_path / "batch.parquet")
    report = ingest(store, tmp_path / "batch.parquet")
    assert report.accepted == 1
    assert [(r.line, r.field) for r in report.rejected] == [(2, "occurred_at")]


def test_missing_columns_fail_the_whole_file(store: sa.Engine, tmp_path: Path) -> None:
    from socialcredit.errors import InvalidInput

    with pytest.raises(InvalidInput, match="lacks the required column"):
        ingest(store, write(tmp_path / "bad.csv", "record_id,subject\nx,y"))
    assert count(store) == 0


def test_a_failure_while_writing_leaves_nothing_behind(store: sa.Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path / "ok.csv",
        f"""
record_id,subject,type,occurred_at,value
k1,{ALICE},finance.payment.late,2026-03-01,1
k2,{BOB},finance.payment.late,2026-03-01,1
""",
    )

    def fail_after_accepting() -> None:
        with store.begin() as conn:
            accept_records(conn, get_source(conn, "bank"), read_rows(path, REQUIRED, OPTIONAL), NOW)
            raise RuntimeError("the disk filled up")

    with pytest.raises(RuntimeError):
        fail_after_accepting()
    assert count(store) == 0
