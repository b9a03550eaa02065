"""The lake on Spark: the same outcome files as DuckDB, byte for byte, from the same lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.errors import InvalidInput
from socialcredit.lake.layout import Lake
from socialcredit.lake.run import run_lake_evaluations
from socialcredit.settings import Settings
from tests.engine.world import as_read
from tests.lake.conftest import village_store
from tests.lake.test_lake import AS_OF, _correction

PACKS = Path(__file__).parents[2] / "src" / "socialcredit" / "policy" / "packs"
pytestmark = pytest.mark.spark


def test_spark_evaluates_the_lake_as_duckdb_does(tmp_path: Path, spark: Any) -> None:
    lake = Lake(tmp_path / "lake")
    engine = village_store(tmp_path / "home", lake, [(_correction(tmp_path), "bank")])
    settings = Settings(home=tmp_path / "home")
    runs = {
        name: run_lake_evaluations(
            engine, settings, lake, tmp_path / name, as_of=AS_OF, engine_name=name
        )
        for name in ("duckdb", "spark")
    }
    for duck, spark_result in zip(runs["duckdb"].results, runs["spark"].results, strict=True):
        assert duck.outcome.counts["scored"] or duck.outcome.counts["decisions"]
        for name in ("scores", "lists", "decisions"):
            written = pq.read_table(spark_result.folder / f"{name}.parquet")
            assert as_read(written).equals(
                as_read(pq.read_table(duck.folder / f"{name}.parquet"))
            ), name
        assert spark_result.outcome.distribution == duck.outcome.distribution
        assert spark_result.outcome.counts == duck.outcome.counts
    with pytest.raises(InvalidInput, match="only the Spark engine"):
        run_lake_evaluations(engine, settings, "s3a://bucket/lake", tmp_path / "x")


def test_scs_evaluate_engine_spark_writes_the_same_files(tmp_path: Path, spark: Any) -> None:
    env = {"SCS_HOME": str(tmp_path / "home"), "COLUMNS": "160"}
    runner = CliRunner()

    def scs(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    scs("init")
    scs("policy", "add", str(PACKS / "sesame.yaml"), str(PACKS / "national.yaml"))
    lake = str(tmp_path / "lake")
    scs("generate", "--people", "2000", "--orgs", "80", "--lake", lake)
    as_of = "2026-11-01T00:00:00Z"
    for engine in ("duckdb", "spark"):
        out = str(tmp_path / engine)
        scs("evaluate", "--lake", lake, "--out", out, "--as-of", as_of, "--engine", engine)
    for policy in ("sesame", "national"):
        for name in ("scores", "lists", "decisions"):
            duck = pq.read_table(tmp_path / "duckdb" / policy / f"{name}.parquet")
            spark_rows = pq.read_table(tmp_path / "spark" / policy / f"{name}.parquet")
            assert as_read(duck).equals(as_read(spark_rows)), (policy, name)
    refused = runner.invoke(app, ["evaluate", "--spark-master", "local[1]"], env=env)
    assert refused.exit_code != 0 and "only for --engine spark" in refused.output
