"""Fuzzing the ingest readers (issue 21, item 10): whatever a file holds, `scs ingest` and
`scs subjects import` account for every line (accepted, already stored, or rejected with a
field and a reason) or refuse the whole file with `InvalidInput`; nothing else escapes, and
only accepted rows are stored. Seeded with the lines that escaped before."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from socialcredit.errors import InvalidInput
from socialcredit.ingest.files import import_subjects_file, ingest_file
from socialcredit.ingest.report import Report
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.schema import identifiers, records
from socialcredit.store.sources import add_source

ALICE = "cn-rid:11010519491231002X"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HUGE = "9" * 5000  # past Python's 4,300-digit limit for int(): escaped `scs ingest`
SEED_LINES = [
    '{"record_id": "a", "subject": "' + ALICE + '", "type": "finance.late", '
    '"occurred_at": "2026-01-01", "value": ' + HUGE + "}",
    '{"record_id": "b", "subject": "' + ALICE + '", "type": "finance.late", '
    '"occurred_at": "2026-01-01", "value": true}',
    '{"record_id": "c", "attrs": "{\\"n\\": ' + HUGE + '}"}',
    '{"value": NaN, "record_id": "d"}',
    "[" * 5000,
    "9" * 5000,
]
SUBJECT_SEEDS = [
    '{"identifier": "ext:a", "kind": "person", "name": "A", "born": ' + HUGE + "}",
    '{"identifier": "ext:b", "kind": "person", "name": "B", "born": true}',
    '{"identifier": "ext:c", "kind": "person", "name": "C", "born": 1e400}',
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**40)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([ALICE, "ext:x", "2026-01-01", "finance.late", "1e999", "-0", ""])
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner)
)
RECORD_FIELDS = ["record_id", "subject", "type", "occurred_at", "value", "attrs", "supersedes"]
SUBJECT_FIELDS = ["identifier", "kind", "name", "region", "born", "founded", "same_as"]


def objects(keys: list[str]) -> st.SearchStrategy[str]:
    rows = st.dictionaries(st.sampled_from(keys) | st.text(max_size=5), values, max_size=8)
    return rows.map(json.dumps)


def lines(keys: list[str]) -> st.SearchStrategy[list[str]]:
    line = objects(keys) | st.text(max_size=60).map(lambda t: t.replace("\n", " "))
    return st.lists(line, min_size=1, max_size=6)


@pytest.fixture
def store(sqlite_settings: Settings, tmp_path: Path) -> sa.Engine:
    engine = create_engine(sqlite_settings)
    people = tmp_path / "people.csv"
    people.write_text(f"identifier,kind,name\n{ALICE},person,Alice\n")
    import_subjects_file(engine, people)
    with engine.begin() as conn:
        add_source(conn, "s", "test", types=["finance.*"])
    return engine


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def accounted(report: Report, read: int) -> None:
    assert report.total == read
    assert report.accepted + report.unchanged + report.rejected_rows == report.total
    for rejection in report.rejected:
        assert rejection.field
        assert rejection.reason
        assert "set_int_max_str_digits" not in rejection.reason


def run(engine: sa.Engine, path: Path, table: sa.Table, action: Any) -> Report | None:
    before = count(engine, table)
    try:
        report: Report = action(path)
    except InvalidInput as error:
        refusal = error
    else:
        assert count(engine, table) - before <= report.accepted
        return report
    assert refusal.field
    assert count(engine, table) == before  # a refused file stores nothing
    return None


def seeded(seeds: list[str]) -> Any:
    def decorate(test: Any) -> Any:
        for seed in seeds:
            test = example([seed])(test)
        return example(seeds)(test)

    return decorate


@FUZZ
@seeded(SEED_LINES)
@given(lines(RECORD_FIELDS))
def test_any_json_lines_of_records(store: sa.Engine, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(rows), encoding="utf-8", errors="surrogatepass")
    report = run(store, path, records, lambda p: ingest_file(store, p, "s"))
    assert report is not None  # JSON Lines never fails whole: each line is its own
    accounted(report, sum(1 for line in rows if line.strip()))


@FUZZ
@seeded(SUBJECT_SEEDS)
@given(lines(SUBJECT_FIELDS))
def test_any_json_lines_of_subjects(store: sa.Engine, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(rows), encoding="utf-8", errors="surrogatepass")
    report = run(store, path, identifiers, lambda p: import_subjects_file(store, p))
    assert report is not None
    accounted(report, sum(1 for line in rows if line.strip()))


cells = st.text(max_size=30) | st.sampled_from(
    [HUGE, "true", "NaN", "1e999", '{"n": ' + HUGE + "}"]
)


@FUZZ
@given(st.lists(st.fixed_dictionaries(dict.fromkeys(RECORD_FIELDS, cells)), min_size=1, max_size=5))
@example([{**dict.fromkeys(RECORD_FIELDS, ""), "value": HUGE, "attrs": '{"n": ' + HUGE + "}"}])
def test_any_csv_of_records(store: sa.Engine, tmp_path: Path, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, RECORD_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    report = run(store, path, records, lambda p: ingest_file(store, p, "s"))
    if report is not None:
        assert report.accepted + report.unchanged + report.rejected_rows == report.total
