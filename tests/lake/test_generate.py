"""Generating a population into the lake: valid, deterministic whatever the chunk size; and
the commands end to end on a small one."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.errors import InvalidInput
from socialcredit.identifiers import parse
from socialcredit.lake.layout import TABLES, Lake
from socialcredit.simulate.scale.generate import ScaleConfig, generate_lake
from socialcredit.simulate.scale.people import BLOCK

PACKS = Path(__file__).parents[2] / "src/socialcredit/policy/packs"


def _read(lake: Lake, name: str) -> pa.Table:
    table = pa.concat_tables([pq.read_table(f) for f in lake.files(name)])
    keys = {"records": ["source", "record_id"], "subjects": ["sid"], "sources": ["source"]}
    order = keys.get(name, ["src", "dst", "kind", "valid_from"])
    return table.sort_by([(k, "ascending") for k in order])


def test_same_seed_same_data_whatever_the_chunk(tmp_path: Path) -> None:
    config = ScaleConfig(people=2 * BLOCK + 300, orgs=500, years=1, seed=3, chunk=BLOCK)
    one, two = Lake(tmp_path / "one"), Lake(tmp_path / "two")
    first = generate_lake(config, one)
    second = generate_lake(ScaleConfig(**{**config.__dict__, "chunk": 2 * BLOCK}), two)
    assert first.records == second.records > 0
    assert len(one.files("subjects")) == 3
    assert len(two.files("subjects")) == 2
    for name in TABLES:
        assert _read(one, name).equals(_read(two, name)), name
    subjects = _read(one, "subjects")
    assert subjects.num_rows == 2 * BLOCK + 300 + 500
    for identifier in subjects["identifier"].to_pylist():
        parse(identifier)  # a valid cn-rid or cn-uscc, or this raises
    assert len(set(subjects["identifier"].to_pylist())) == subjects.num_rows
    other = generate_lake(ScaleConfig(**{**config.__dict__, "seed": 4}), Lake(tmp_path / "x"))
    assert other.records != first.records
    with pytest.raises(InvalidInput, match="empty lake"):
        generate_lake(config, one)


def test_generate_then_evaluate_the_lake(tmp_path: Path) -> None:
    env = {"SCS_HOME": str(tmp_path / "home"), "COLUMNS": "160"}
    runner = CliRunner()

    def scs(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    scs("init")
    scs("policy", "add", str(PACKS / "sesame.yaml"), str(PACKS / "national.yaml"))
    lake = tmp_path / "lake"
    out = scs("generate", "--people", "3000", "--orgs", "100", "--lake", str(lake))
    assert "3,000 people" in out
    assert "records" in scs("lake", "show", "--lake", str(lake))
    result = scs("evaluate", "--lake", str(lake), "--out", str(tmp_path / "out"))
    assert "time and memory per stage" in result
    scores = pq.read_table(tmp_path / "out" / "sesame" / "scores.parquet")
    assert scores.num_rows > 2000
    assert (tmp_path / "out" / "national" / "decisions.parquet").exists()
    assert "would purge" in scs("lake", "purge", "--lake", str(lake), "--dry-run")


def test_a_run_past_its_memory_and_spill_limits_stops_with_a_clear_error(tmp_path: Path) -> None:
    """DuckDB out of memory and spill space is exit code 8 with the limits named, not a
    traceback, and no outcome file appears."""
    home, lake = tmp_path / "home", tmp_path / "lake"
    env = {"SCS_HOME": str(home), "COLUMNS": "160"}
    runner = CliRunner()
    for args in (["init"], ["policy", "add", str(PACKS / "sesame.yaml")]):
        assert runner.invoke(app, args, env=env).exit_code == 0
    generate_lake(ScaleConfig(people=BLOCK, orgs=200, chunk=BLOCK), Lake(lake))
    tight = env | {
        "SCS_DUCKDB_MEMORY_LIMIT": "8MB",
        "SCS_DUCKDB_SPILL_LIMIT": "1MB",
        "SCS_DUCKDB_THREADS": "1",
    }
    out = tmp_path / "out"
    result = runner.invoke(app, ["evaluate", "--lake", str(lake), "--out", str(out)], env=tight)
    assert result.exit_code == 8, (result.output, result.exception)
    assert "SCS_DUCKDB_SPILL_LIMIT" in result.output
    assert "1MB" in result.output
    assert not list(out.rglob("*.parquet"))
