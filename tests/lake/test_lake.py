"""The lake: evaluation equals the store's, atomic writes, retention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit import atomic
from socialcredit.engine.data import Inputs
from socialcredit.errors import InvalidInput
from socialcredit.lake import write
from socialcredit.lake.layout import Lake
from socialcredit.lake.read import lake_data
from socialcredit.lake.retention import purge_partitions
from socialcredit.lake.run import run_lake_evaluations
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.policy.load import load_policy
from socialcredit.settings import Settings
from tests.engine.world import as_read
from tests.lake.conftest import village_store

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def _correction(tmp_path: Path) -> Path:
    path = tmp_path / "correction.csv"
    path.write_text(
        "record_id,subject,type,occurred_at,value,supersedes\n"
        "b-1c,cn-rid:37108219800517011X,finance.payment.late,2026-03-01,3,b-1\n"
    )
    return path


def test_lake_evaluation_equals_the_store_evaluation(tmp_path: Path) -> None:
    extra = [(_correction(tmp_path), "bank")]
    stored = village_store(tmp_path / "a", None, extra)
    lake = Lake(tmp_path / "lake")
    laked = village_store(tmp_path / "b", lake, extra)
    assert lake.files("records")
    expected = run_evaluations(stored, Settings(home=tmp_path / "a"), as_of=AS_OF)
    got = run_lake_evaluations(
        laked, Settings(home=tmp_path / "b"), lake, tmp_path / "out", as_of=AS_OF
    )
    assert [r.policy.name for r in got.results] == [r.policy.name for r in expected.results]
    for want, have in zip(expected.results, got.results, strict=True):
        assert want.outcome.scores.num_rows or want.outcome.decisions.num_rows
        # The lake run streams its outcome tables into the files instead of returning them.
        assert have.outcome.written_to == have.folder
        for name in ("scores", "lists", "decisions"):
            assert getattr(have.outcome, name).num_rows == 0, name
            written = pq.read_table(have.folder / f"{name}.parquet")
            assert as_read(written).equals(as_read(getattr(want.outcome, name))), name
        assert have.outcome.distribution == want.outcome.distribution
        assert have.outcome.counts == want.outcome.counts
    # The correction counts, the record it supersedes does not.
    sesame = next(r for r in got.results if r.policy.name == "sesame")
    assert (
        sesame.outcome.counts["records_counted"]
        == next(r for r in expected.results if r.policy.name == "sesame").outcome.counts[
            "records_counted"
        ]
    )


def test_re_ingesting_into_the_lake_changes_nothing(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    engine = village_store(tmp_path / "home", lake, [])
    before = lake.files("records")
    from socialcredit.lake.ingest import ingest_to_lake
    from tests.lake.conftest import VILLAGE

    report = ingest_to_lake(engine, lake, VILLAGE / "bank.csv", "bank")
    assert report.accepted == 0
    assert report.unchanged == 6
    assert lake.files("records") == before


def _records(n: int, month: int) -> pa.Table:
    occurred = datetime(2020, month, 15, tzinfo=UTC)
    return pa.table(
        {
            "source": ["bank"] * n,
            "record_id": [f"r{month}-{i}" for i in range(n)],
            "subject": ["ext:x"] * n,
            "sid": pa.array([1] * n, pa.int64()),
            "type": ["finance.payment.late"] * n,
            "occurred_at": [occurred] * n,
            "received_at": [occurred] * n,
            "value": pa.array([1.0] * n),
            "attrs": pa.nulls(n, pa.string()),
            "supersedes": pa.nulls(n, pa.string()),
        }
    )


def test_a_half_written_file_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake(tmp_path / "lake")
    write.append_records(lake, _records(5, 1), "first")
    complete = lake.files("records")
    assert len(complete) == 1

    class Crashing:
        """A Parquet writer that gets half a file onto the disk, then fails."""

        def __init__(self, where: Path, schema: pa.Schema, **options: object) -> None:
            Path(where).write_bytes(b"PAR1 half a file")

        def __enter__(self) -> Crashing:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def write_table(self, table: pa.Table, **options: object) -> None:
            raise OSError("disk full")

    monkeypatch.setattr(atomic.pq, "ParquetWriter", Crashing)
    with pytest.raises(OSError, match="disk full"):
        write.append_records(lake, _records(5, 1), "second")
    monkeypatch.undo()
    assert lake.files("records") == complete
    assert not list((tmp_path / "lake").rglob("*.tmp"))
    # A writer still busy (its hidden temporary file present) is invisible to readers too.
    busy = complete[0].parent / ".third.parquet.abc.tmp"
    busy.write_bytes(b"PAR1 being written")
    data = lake_data(lake, Inputs.from_rows())
    count = data.con.raw_sql("SELECT count(*) FROM records").fetchone()[0]
    assert count == 5


def test_retention_purges_whole_partitions_past_the_horizon(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    for month in (1, 6, 12):
        write.append_records(lake, _records(3, month), "part")
    policy = load_policy(
        """
        policy: short
        version: "1"
        title: Test
        subjects: [person]
        model: points
        scale: {min: 0, max: 2000}
        base: 1000
        categories: {c: {}}
        rules:
          - {type: finance.payment.late, category: c, points: -1, expires: 365d, reason: Late}
        """
    ).policy
    preview = purge_partitions(lake, [policy], datetime(2021, 7, 15, tzinfo=UTC), dry_run=True)
    assert [p.name for p in preview.purged] == ["month=01", "month=06"]
    assert len(lake.partitions()) == 3
    done = purge_partitions(lake, [policy], datetime(2021, 7, 15, tzinfo=UTC))
    assert done.horizon_days == 365
    assert [(y, m) for y, m, _ in lake.partitions()] == [(2020, 12)]
    forever = load_policy(
        """
        policy: forever
        version: "1"
        title: Test
        subjects: [person]
        model: points
        scale: {min: 0, max: 2000}
        base: 1000
        categories: {c: {}}
        rules:
          - {type: finance.payment.late, category: c, points: -1, reason: Late}
        """
    ).policy
    with pytest.raises(InvalidInput, match=r"rules\[0\]\.expires"):
        purge_partitions(lake, [forever], datetime(2030, 1, 1, tzinfo=UTC))
