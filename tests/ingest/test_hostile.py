"""Hostile and odd input: each problem is a per-row reason or a whole-file error, never a
stack trace and never a half-applied batch, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from socialcredit.errors import InvalidInput
from socialcredit.ingest.files import import_subjects_file, ingest_file
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import records
from socialcredit.store.sources import add_source

ALICE = "cn-rid:11010519491231002X"
OK = {"subject": ALICE, "type": "finance.late", "occurred_at": "2026-01-01"}


@pytest.fixture
def store(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    people = tmp_path / "people.csv"
    people.write_text(f"identifier,kind,name\n{ALICE},person,Alice\n")
    import_subjects_file(engine, people)
    with engine.begin() as conn:
        add_source(conn, "s", "test")
    return engine


def stored(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(records.c.record_id)).scalars())


def jsonl(tmp_path: Path, *lines: str | bytes) -> Path:
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines))
    return path


def test_odd_json_lines_are_rejected_one_by_one(store: sa.Engine, tmp_path: Path) -> None:
    row = json.dumps
    path = jsonl(
        tmp_path,
        row({**OK, "record_id": "good"}),
        row({**OK, "record_id": "nul\u0000id"}),
        row({**OK, "record_id": "surrogate\ud800"}),
        '{"record_id": "nan", "subject": "' + ALICE + '", "type": "finance.late", '
        '"occurred_at": "2026-01-01", "attrs": {"a": NaN}}',
        row({**OK, "record_id": "huge", "value": int("9" * 400)}),
        row({**OK, "record_id": "big", "value": 1e300}),
        row({**OK, "record_id": "old", "occurred_at": "0001-01-01T00:00:00+01:00"}),
        row({**OK, "record_id": "far", "occurred_at": "9999-12-31T23:00:00-05:00"}),
        row({**OK, "record_id": "list", "subject": [ALICE]}),
        row({**OK, "record_id": "typo", "supersede": "good"}),
        b'{"record_id": "bytes\xff"}',
        row({**OK, "record_id": "nul-attrs", "attrs": {"k": "a\u0000b"}}),
        row({**OK, "record_id": "deep", "attrs": {"a": {"b": [1, {"c": "\ud83d"}]}}}),
    )
    report = ingest_file(store, path, "s")
    found = {r.line: (r.field, r.reason) for r in report.rejected}
    assert report.accepted == 1
    assert found[2] == ("record_id", "contains the unprintable character U+0000")
    assert found[3][0] == "record_id"
    assert found[4][0] == "attrs"
    assert found[5] == ("value", "a whole number of about 400 digits is larger than 1e+12 in size")
    assert "larger than" in found[6][1]
    assert found[7] == ("occurred_at", "'0001-01-01T00:00:00+01:00' is out of range in UTC")
    assert found[8][0] == "occurred_at"
    assert "is not text" in found[9][1]
    assert "unknown field(s) supersede" in found[10][1]
    assert "not UTF-8" in found[11][1]
    assert found[12][0] == found[13][0] == "attrs"
    assert stored(store) == ["good"]


def test_unknown_or_repeated_columns_fail_the_file(store: sa.Engine, tmp_path: Path) -> None:
    misspelt = tmp_path / "misspelt.csv"
    misspelt.write_text(
        f"record_id,subject,type,occurred_at,supersede\nx,{ALICE},a.b,2026-01-01,y\n"
    )
    with pytest.raises(InvalidInput, match="unknown column"):
        ingest_file(store, misspelt, "s")
    repeated = tmp_path / "repeated.csv"
    repeated.write_text(
        f"record_id,subject,type,occurred_at,value,value\nx,{ALICE},a.b,2026-01-01,1,2\n"
    )
    with pytest.raises(InvalidInput, match="repeats the column"):
        ingest_file(store, repeated, "s")
    table = pa.table(
        {
            "record_id": ["p"],
            "subject": [ALICE],
            "type": ["a.b"],
            "occurred_at": ["2026-01-01"],
            "colour": ["red"],
        }
    )
    pq.write_table(table, tmp_path / "extra.parquet")
    with pytest.raises(InvalidInput, match="unknown column"):
        ingest_file(store, tmp_path / "extra.parquet", "s")
    assert stored(store) == []


def test_a_broken_csv_fails_whole_and_large_cells_are_rows(
    store: sa.Engine, tmp_path: Path
) -> None:
    big = json.dumps({"blob": "x" * 200_000}).replace('"', '""')
    path = tmp_path / "big.csv"
    path.write_text(
        "record_id,subject,type,occurred_at,attrs\n"
        f"a,{ALICE},a.b,2026-01-01,\n"
        f'b,{ALICE},a.b,2026-01-01,"{big}"\n'
        f"c,{ALICE},a.b,2026-01-01,\n"
    )
    report = ingest_file(store, path, "s")
    assert (report.accepted, [(r.line, r.field) for r in report.rejected]) == (2, [(3, "attrs")])
    broken = tmp_path / "broken.csv"
    good = "".join(f"d{i},{ALICE},a.b,2026-01-01\n" for i in range(500))  # past the first read
    broken.write_bytes(
        b"record_id,subject,type,occurred_at\n" + good.encode() + b"e,\xff\xfe,a.b,2026-01-01\n"
    )
    with pytest.raises(InvalidInput, match=r"after line \d+: not UTF-8 text.*nothing was stored"):
        ingest_file(store, broken, "s")
    early = tmp_path / "early.csv"
    early.write_bytes(b"record_id,subject,type,occurred_at\ne,\xff,a.b,2026-01-01\n")
    with pytest.raises(InvalidInput, match="is not UTF-8 text"):
        ingest_file(store, early, "s")
    assert stored(store) == ["a", "c"]


def test_nanosecond_parquet_timestamps_are_truncated(store: sa.Engine, tmp_path: Path) -> None:
    nanos = pa.array([1_767_225_600_123_456_789], pa.timestamp("ns", tz="UTC"))
    table = pa.table(
        {"record_id": ["ns"], "subject": [ALICE], "type": ["a.b"], "occurred_at": nanos}
    )
    pq.write_table(table, tmp_path / "ns.parquet")
    assert ingest_file(store, tmp_path / "ns.parquet", "s").accepted == 1
    with store.connect() as conn:
        occurred = conn.execute(sa.select(records.c.occurred_at)).scalar_one()
    assert occurred == datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


def test_born_comes_from_the_resident_id(store: sa.Engine) -> None:
    with store.connect() as conn:
        assert find_subject(conn, ALICE).born == 1949


def test_a_number_past_pythons_digit_limit_is_a_line_reason(
    store: sa.Engine, tmp_path: Path
) -> None:
    """Issue 21: a `value` of more than 4,300 digits escaped `scs ingest` as a ValueError."""
    digits = "9" * 5000
    path = jsonl(
        tmp_path,
        json.dumps({**OK, "record_id": "good"}),
        json.dumps({**OK, "record_id": "long"})[:-1] + f', "value": {digits}}}',
        json.dumps({**OK, "record_id": "attrs", "attrs": '{"n": ' + digits + "}"}),
        json.dumps({**OK, "record_id": "true", "value": True}),
    )
    report = ingest_file(store, path, "s")
    found = {r.line: (r.field, r.reason) for r in report.rejected}
    assert found[2] == (
        "line",
        "not valid JSON (Exceeds the limit (4300 digits) for integer string conversion: "
        "value has 5000 digits)",
    )
    assert found[3][0] == "attrs"
    assert found[3][1].startswith("is not valid JSON (Exceeds the limit (4300 digits)")
    assert found[4] == ("value", "True is not a number")
    assert stored(store) == ["good"]


def test_a_subject_file_with_a_number_past_the_digit_limit(
    store: sa.Engine, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path,
        json.dumps({"identifier": "ext:bob", "kind": "person", "name": "Bob"})[:-1]
        + ', "born": '
        + "1" * 4301
        + "}",
        json.dumps({"identifier": "ext:eve", "kind": "person", "name": "Eve", "born": True}),
        json.dumps({"identifier": "ext:ann", "kind": "person", "name": "Ann", "born": 1990}),
    )
    report = import_subjects_file(store, path)
    found = {r.line: (r.field, r.reason) for r in report.rejected}
    assert found[1][1].startswith("not valid JSON (Exceeds the limit (4300 digits)")
    assert found[2][0] == "born"
    assert report.accepted == 1
    with store.connect() as conn:
        assert find_subject(conn, "ext:ann").born == 1990
