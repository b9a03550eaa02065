"""Reading the store into engine inputs loses nothing and converts instants exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from socialcredit.ingest.registry import import_relationships, import_subjects
from socialcredit.store import bulk, snapshot
from socialcredit.store import records as record_log
from socialcredit.store.sources import add_source
from socialcredit.timeutil import to_us

WHEN = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def test_every_row_arrives_with_exact_instants(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "FETCH_ROWS", 1_000)  # several fetches, and several lookup chunks
    n = 12_500
    with engine.begin() as conn:
        add_source(conn, "s", "test", reliability=0.5)
        rows = [
            (i + 2, {"identifier": f"ext:p{i}", "kind": "person", "name": f"P{i}", "born": 1990})
            for i in range(n)
        ]
        assert import_subjects(conn, rows, WHEN).accepted == n
        edges = [
            (
                i + 2,
                {
                    "from": f"ext:p{i}",
                    "to": f"ext:p{i + 1}",
                    "kind": "contact",
                    "valid_from": "2020-01-01T00:00:00.000001Z",
                },
            )
            for i in range(n - 1)
        ]
        assert import_relationships(conn, edges, WHEN).accepted == n - 1
        ids = snapshot.load_registry(conn).subjects["sid"].to_pylist()
        record_log.append(
            conn,
            {
                "source_id": ["s"] * n,
                "record_id": [f"r{i}" for i in range(n)],
                "subject_id": ids,
                "type": ["a.b"] * n,
                "occurred_at": [WHEN] * n,
                "received_at": [WHEN] * n,
                "value": [float(i) for i in range(n)],
                "attrs": [None] * n,
                "supersedes": [None] * n,
            },
        )
        record_log.change_status(conn, [("s", "r0", "retracted", "wrong person")], WHEN, "test")
    with engine.connect() as conn:
        inputs = snapshot.load_inputs(conn)
        some = snapshot.load_records(conn, ids[:3] + ids[-6_000:])
    assert inputs.subjects.num_rows == n
    assert inputs.subjects["born"].to_pylist() == [1990] * n
    assert inputs.relationships.num_rows == n - 1
    assert inputs.relationships["valid_from_us"][0].as_py() == to_us(
        datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    )
    assert inputs.records.num_rows == n
    assert set(inputs.records["occurred_us"].to_pylist()) == {to_us(WHEN)}
    assert sorted(inputs.records["value"].to_pylist()) == [float(i) for i in range(n)]
    assert inputs.sources.to_pylist() == [{"source": "s", "reliability": 0.5}]
    assert inputs.status.to_pylist()[0]["status"] == "retracted"
    assert some.num_rows == 6_003
