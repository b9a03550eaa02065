"""The engines agree to the bit: SciPy and join propagation on DuckDB, DuckDB and Spark.

The rest of the engine suite runs on each engine against hand computations and the reference;
these compare the engines' outcome tables directly on random worlds.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine import EngineData, Outcome, evaluate
from socialcredit.engine.data import Inputs
from socialcredit.engine.fmath import with_exp, with_exp2
from tests.engine.test_properties import POINTS, WEIGHTED, worlds
from tests.engine.world import T0, World, as_read, day, policy

FEW = settings(deadline=None, suppress_health_check=list(HealthCheck))


def assert_same(a: Outcome, b: Outcome) -> None:
    for name in ("scores", "lists", "decisions"):
        left, right = getattr(a, name), getattr(b, name)
        assert left.schema == right.schema, name
        assert left.equals(right), (name, left.to_pylist(), right.to_pylist())
    assert a.distribution == b.distribution


@pytest.mark.parametrize("blocks", [False, True], ids=["joins", "blocks"])
@settings(FEW, max_examples=15)
@given(worlds(), st.integers(1, 4), st.sampled_from([None, -15]), st.data())
def test_join_propagation_equals_scipy(
    blocks: bool, world: World, hops: int, known: int | None, data: Any
) -> None:
    """The engine's propagation, all joins or (a full evaluation's) in numpy blocks, gives
    SciPy's bits; subsets and explanations are the joins' in both."""
    known_at = None if known is None else day(known)
    p = policy(WEIGHTED.replace("HOPS", str(hops)))
    sparse = EngineData(world.inputs())
    joins = EngineData(world.inputs(), sparse_edge_limit=0, network_blocks=blocks)
    full = evaluate(sparse, p, T0, known_at)
    assert_same(full, evaluate(joins, p, T0, known_at))
    sid = data.draw(st.sampled_from([s["sid"] for s in world.subjects]))
    options: dict[str, Any] = {"subjects": [sid], "distribution": full.distribution}
    a = evaluate(sparse, p, T0, known_at, explain=True, **options)
    b = evaluate(joins, p, T0, known_at, explain=True, **options)
    assert_same(a, b)
    assert a.influences is not None and b.influences is not None
    assert a.influences.equals(b.influences)


def test_exponentials_are_within_an_ulp_or_two() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-60, 60, 20_000), rng.uniform(-2, 2, 20_000), [0.0]])
    t = ibis.memtable(pa.table({"x": x}))
    got = ibis.duckdb.connect().to_pyarrow(with_exp2(with_exp(t, e=t.x), two=t.x))
    for column, function in (("e", math.exp), ("two", lambda v: 2.0**v)):
        values = got[column].to_numpy()
        expected = np.array([function(v) for v in x])
        assert np.all(np.abs(values - expected) <= 2 * np.spacing(expected))
    assert got["e"][len(x) - 1].as_py() == 1.0 and got["two"][len(x) - 1].as_py() == 1.0


@pytest.mark.spark
def test_spark_equals_duckdb(spark: Any) -> None:
    from socialcredit.engine.spark import SparkData

    @settings(FEW, max_examples=4)
    @given(worlds(), st.integers(1, 3), st.sampled_from([None, -15]))
    def check(world: World, hops: int, known: int | None) -> None:
        known_at = None if known is None else day(known)
        duck, sparked = EngineData(world.inputs()), SparkData(world.inputs(), spark)
        for p in (policy(WEIGHTED.replace("HOPS", str(hops))), policy(POINTS)):
            assert_same(evaluate(duck, p, T0, known_at), evaluate(sparked, p, T0, known_at))
        sparked.close()

    check()


@settings(FEW, max_examples=10)
@given(worlds())
def test_outcome_files_hold_the_returned_tables(world: World) -> None:
    """evaluate(write_to=…) has the engine write exactly the tables it otherwise returns, in
    their order, with the same column names and types, and counts the same."""
    p = policy(WEIGHTED.replace("HOPS", "2"))
    data = EngineData(world.inputs())
    held = evaluate(data, p, T0)
    with tempfile.TemporaryDirectory() as folder:
        written = evaluate(data, p, T0, write_to=Path(folder))
        assert written.written_to == Path(folder)
        for name in ("scores", "lists", "decisions"):
            table = getattr(held, name)
            assert getattr(written, name).num_rows == 0
            rows = pq.read_table(Path(folder) / f"{name}.parquet")
            assert as_read(rows).equals(as_read(table)), name
    assert written.counts == held.counts
    assert written.distribution == held.distribution


@pytest.mark.parametrize("blocks", [False, True], ids=["joins", "blocks"])
@settings(FEW, max_examples=15)
@given(worlds(), st.integers(1, 4), st.sampled_from([None, -15]))
def test_sums_per_subject_range_equal_sums_at_once(
    blocks: bool, world: World, size: int, known: int | None
) -> None:
    """The category sums and the network's pairs, degrees and hop sums of a full evaluation,
    taken per range of `size` subject ids (as the record lake does at scale; one numpy block
    per range with `blocks`), give the outcome of one GROUP BY over everyone (SciPy's, for
    the network)."""
    known_at = None if known is None else day(known)
    p = policy(WEIGHTED.replace("HOPS", "2"))
    at_once = evaluate(EngineData(world.inputs()), p, T0, known_at)
    ranged = EngineData(
        world.inputs(), subject_range=size, sparse_edge_limit=0, network_blocks=blocks
    )
    assert_same(at_once, evaluate(ranged, p, T0, known_at))
    points = policy(POINTS)
    assert_same(
        evaluate(EngineData(world.inputs()), points, T0, known_at),
        evaluate(ranged, points, T0, known_at),
    )


@pytest.mark.parametrize("size", [0, 1, 2])
@pytest.mark.parametrize("versions", [False, True])
def test_edge_versions_in_the_engine_are_found_in_any_range(size: int, versions: bool) -> None:
    """A lake's relationships are checked for an edge recorded twice in the engine, per range
    of `src` when the data sets a subject range (4 × `size` edges per range here)."""
    edges = [(src, src + 1, 0) for src in range(1, 13)]
    if versions:  # edge 11 -> 12, recorded again later with the same valid_from
        edges.append((11, 12, 5))
    rows = ", ".join(
        f"(NULL::BIGINT, {src}, {dst}, 'family', 1.0, 0::BIGINT, NULL::BIGINT, {at}::BIGINT)"
        for src, dst, at in edges
    )
    query = (
        "SELECT * FROM (VALUES "
        f"{rows}) t(eid, src, dst, kind, weight, valid_from_us, valid_to_us, recorded_us)"
    )
    data = EngineData(Inputs.from_rows(), extra={"relationships": query}, subject_range=size)
    assert data.has_edge_versions is versions
