"""Network influence: N(x), the damped iteration, edge selection."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import ibis
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.engine import EngineData, evaluate, network, network_blocks
from socialcredit.engine.data import Inputs, _bytes
from tests.engine.world import T0, World, day, policy, rows

NET = """
policy: net
version: "1"
title: net
subjects: [person]
model: weighted
scale: {min: 0, max: 1000}
categories:
  conduct: {weight: 0.5, sensitivity: 10}
  ties:
    weight: 0.5
    network: {relationships: {contact: 1.0, spouse: 2.0}, hops: HOPS, damping: 0.5}
rules:
  - {type: civic.good, category: conduct, points: 10, reason: good}
"""

GOOD = 1 / (1 + math.exp(-1))  # S for one good record (R = 10, k = 10)


def net(hops: int):  # type: ignore[no-untyped-def]
    return policy(NET.replace("HOPS", str(hops)))


def test_neighbours_average_and_isolated_subjects(world: World) -> None:
    w = world
    w.people(1, 2, 3, 4)
    w.edge(1, 2, "contact")
    w.edge(3, 1, "spouse")  # either direction counts; spouse weighs 2
    w.record(2, "civic.good", day(-1))
    out = rows(w.evaluate(net(1)).scores)
    assert out[1]["ties"] == pytest.approx((1 * GOOD + 2 * 0.5) / 3, abs=1e-15)
    assert out[2]["ties"] == pytest.approx(0.5)  # its only neighbour, 1, has B = 0.5
    assert out[4]["ties"] == 0.5  # no neighbours
    expected = math.floor(1000 * (0.5 * 0.5 + 0.5 * out[1]["ties"]) + 0.5)
    assert out[1]["score"] == expected


def test_two_hops_damped(world: World) -> None:
    w = world
    w.people(1, 2, 3)
    w.edge(1, 2, "contact")
    w.edge(2, 3, "contact")
    w.record(3, "civic.good", day(-1))
    out = rows(w.evaluate(net(2)).scores)
    b = {1: 0.5, 2: 0.5, 3: GOOD}
    # y1 = B; y2 = (1-d) B + d N(y1); S = N(y2), d = 0.5
    n1 = {1: b[2], 2: (b[1] + b[3]) / 2, 3: b[2]}
    y2 = {s: 0.5 * b[s] + 0.5 * n1[s] for s in b}
    assert out[1]["ties"] == pytest.approx(y2[2], abs=1e-15)
    assert out[2]["ties"] == pytest.approx((y2[1] + y2[3]) / 2, abs=1e-15)


def test_edge_validity_kinds_scope_and_duplicates(world: World) -> None:
    w = world
    w.people(1, 2, 3, 4)
    w.subject(5, kind="organization")
    for sid in (2, 3, 4, 5):
        w.record(sid, "civic.good", day(-1))
    w.edge(1, 2, "contact", valid_to=day(-1))  # ended
    w.edge(1, 3, "contact", valid_from=day(1))  # not yet
    w.edge(1, 4, "household")  # kind not listed
    w.edge(1, 5, "contact")  # organization: not scored, so not a neighbour
    w.edge(2, 3, "contact", weight=2.0)
    w.edge(3, 2, "contact", weight=1.0)  # both directions: a = 3
    w.edge(2, 4, "contact")
    out = rows(w.evaluate(net(1)).scores)
    assert out[1]["ties"] == 0.5
    assert out[2]["ties"] == pytest.approx((3 * GOOD + 1 * GOOD) / 4, abs=1e-15)


def test_relationships_recorded_after_known_at_are_ignored(world: World) -> None:
    w = world
    w.people(1, 2)
    w.record(2, "civic.good", day(-1))
    w.edge(1, 2, "contact", recorded=day(-2))
    assert rows(w.evaluate(net(1), known_at=day(-3)).scores)[1]["ties"] == 0.5
    assert rows(w.evaluate(net(1)).scores)[1]["ties"] == pytest.approx(GOOD)


def test_a_later_version_of_an_edge_ends_it(world: World) -> None:
    w = world
    w.people(1, 2)
    w.record(2, "civic.good", day(-30))
    w.edge(1, 2, "contact", recorded=day(-100))
    w.edge(1, 2, "contact", valid_to=day(-10), recorded=day(-5))  # re-imported: ended
    assert rows(w.evaluate(net(1)).scores)[1]["ties"] == 0.5
    # before the new version was recorded, the edge was open-ended
    assert rows(w.evaluate(net(1), known_at=day(-6)).scores)[1]["ties"] == pytest.approx(GOOD)
    # and while it was valid, it counted
    assert rows(w.evaluate(net(1), as_of=day(-20)).scores)[1]["ties"] == pytest.approx(GOOD)


class _Watched(EngineData):
    """DuckDB data that notes, when the outcome files are written, the columns of every table
    the evaluation still holds."""

    held: list[set[str]]

    def write_parquet(self, table: ibis.Table, path: Path) -> None:
        columns: dict[str, set[str]] = {}
        query = "SELECT table_name, column_name FROM duckdb_columns()"
        for table_name, column in self.con.raw_sql(query).fetchall():
            if "stage" in table_name:
                columns.setdefault(table_name, set()).add(column)
        self.held = list(columns.values())
        super().write_parquet(table, path)


@pytest.mark.parametrize("explain", [False, True])
def test_the_network_graph_is_let_go_once_propagated(tmp_path: Path, explain: bool) -> None:
    """A batch evaluation does not hold the pairs, degrees and hop values through its later
    stages (about 10 GB at province size); an explanation keeps them for the influences."""
    w = World()
    w.people(1, 2, 3, 4)
    w.edge(1, 2, "contact")
    w.edge(2, 3, "spouse")
    w.record(3, "civic.good", day(-1))
    data = _Watched(w.inputs(), sparse_edge_limit=0, subject_range=2)  # joins, per range
    out = evaluate(data, net(2), T0, write_to=tmp_path / "all")
    assert out.counts["scored"] == 4
    assert data.held and not any({"a", "b", "aq"} <= columns for columns in data.held)
    if explain:
        explained = evaluate(data, net(2), T0, subjects=[1], explain=True)
        assert explained.influences is not None and explained.influences.num_rows == 1


def _scores(out) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return sorted(rows(out.scores).values(), key=lambda row: row["sid"])


def _ring(w: World, ids: list[int]) -> None:
    w.people(*ids)
    for one, other in zip(ids, ids[1:] + ids[:1], strict=True):
        w.edge(one, other, "contact" if one % 2 else "spouse")
    w.record(ids[0], "civic.good", day(-1))
    w.record(ids[2], "civic.good", day(-3))


def test_a_full_evaluation_propagates_over_blocks_in_the_spill_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the joins' limit, DuckDB's full evaluation keeps one block file set per range of
    subjects in its temp directory, with DuckDB's memory limit lowered by what numpy holds;
    it removes the files and restores the limit when done, and gives SciPy's bits."""
    saved: list[Path] = []
    limits: list[str] = []
    save = network_blocks._Block.save
    setting = "SELECT current_setting('memory_limit')"

    def noted(block: network_blocks._Block, *arrays: np.ndarray) -> None:
        save(block, *arrays)
        saved.extend(block.paths.values())
        limits.append(blocks.con.raw_sql(setting).fetchall()[0][0])

    monkeypatch.setattr(network_blocks._Block, "save", noted)
    monkeypatch.setattr(network_blocks, "SMALL_SPAN", 2**30)  # dense enough, however spread
    w = World()
    _ring(w, [1, 2, 3, 4, 5, 10_000_000])  # a span of ten million ids: 25 bytes each
    blocks = EngineData(
        w.inputs(),
        sparse_edge_limit=0,
        subject_range=2,
        temp_directory=str(tmp_path),
        memory_limit="1GB",
    )
    got = evaluate(blocks, net(3), T0)
    assert len(saved) == 3 * 3  # three ranges of ids (one without subjects), three files each
    assert all(path.parent.parent == tmp_path and not path.exists() for path in saved)
    # 1 GB less 250 MB for the three arrays and the flags (and a few bytes for the rows)
    assert len(limits) == 3 and all(abs(_bytes(x) - 750_000_000) < 2**20 for x in limits)
    assert blocks.con.raw_sql(setting).fetchall()[0][0] == "953.6 MiB"  # 1 GB again
    assert _scores(got) == _scores(evaluate(EngineData(w.inputs()), net(3), T0))


def test_a_lend_duckdb_cannot_free_leaves_its_limit_as_it_was() -> None:
    """When DuckDB cannot give up the memory (its tables are pinned: no spill folder), lending
    leaves the limit as it was, inside and after, and the work inside goes on."""
    data = EngineData(Inputs.from_rows(), memory_limit="400MB")
    setting = "SELECT current_setting('memory_limit')"
    data.con.raw_sql("SET temp_directory = ''")  # nothing can be spilled
    data.con.raw_sql(
        "CREATE TEMP TABLE pinned AS SELECT range AS x, range::VARCHAR || '-padding' AS y "
        "FROM range(8000000)"
    )
    used = data.con.raw_sql("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()
    assert used[0][0] > 150_000_000  # more than the lowered limit (a quarter of 400 MB)
    with data.lend(300_000_000):
        assert data.con.raw_sql(setting).fetchall()[0][0] == "381.4 MiB"
        assert data.con.raw_sql("SELECT count(*) FROM pinned").fetchall()[0][0] == 8_000_000
    assert data.con.raw_sql(setting).fetchall()[0][0] == "381.4 MiB"


def test_sparse_subject_ids_propagate_by_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids spread over far more than DENSE per subject would make the blocks' arrays large:
    those go to the joins, with the same outcome."""
    monkeypatch.setattr(network_blocks, "SMALL_SPAN", 8)

    def refuse(*_: object) -> None:
        raise AssertionError("no block for sparse ids")

    monkeypatch.setattr(network_blocks._Block, "save", refuse)
    w = World()
    _ring(w, [1, 2, 3, 1_000, 2_000, 9_000])
    data = EngineData(w.inputs(), sparse_edge_limit=0)
    got = evaluate(data, net(2), T0)
    assert _scores(got) == _scores(evaluate(EngineData(w.inputs()), net(2), T0))


@given(st.lists(st.lists(st.integers(-(2**53), 2**53), max_size=4), max_size=12))
def test_row_sums_are_exact_with_empty_rows_anywhere(row_values: list[list[int]]) -> None:
    """Empty rows first, between and last (a block's last ids often have no neighbours)."""
    indptr = np.cumsum([0] + [len(row) for row in row_values], dtype=np.int64)
    values = np.array([v for row in row_values for v in row], dtype=np.int64)
    assert network_blocks.row_sums(values, indptr).tolist() == [sum(r) for r in row_values]


def test_influences_after_a_block_propagation_are_scipys() -> None:
    """An explanation without a distribution scores everyone first (over blocks, here): the
    neighbours' values it then shows are SciPy's."""
    w = World()
    _ring(w, [1, 2, 3, 4, 5, 6])
    blocks = EngineData(w.inputs(), sparse_edge_limit=0, subject_range=2)
    got = evaluate(blocks, net(3), T0, subjects=[2], explain=True)
    want = evaluate(EngineData(w.inputs()), net(3), T0, subjects=[2], explain=True)
    assert got.influences is not None and want.influences is not None
    assert got.influences.num_rows == 2 and got.influences.equals(want.influences)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(-(2**40), 2**40))))
def test_blocks_sum_the_edges_between_two_subjects_once(edges: list[tuple[int, int, int]]) -> None:
    """Rows sorted by (s, j): the first row of each pair carries the exact sum of its weights,
    the pair's other rows 0 (parallel edges of two kinds or of both directions meet there)."""
    edges.sort(key=lambda e: (e[0], e[1]))
    s, j, aq = (np.array([e[k] for e in edges], dtype=np.int64) for k in range(3))
    network_blocks._sum_repeats(s, j, aq)
    expected: dict[tuple[int, int], int] = {}
    for one, other, weight in edges:
        expected[(one, other)] = expected.get((one, other), 0) + weight
    seen: set[tuple[int, int]] = set()
    for one, other, weight in zip(s.tolist(), j.tolist(), aq.tolist(), strict=True):
        assert weight == (0 if (one, other) in seen else expected[(one, other)])
        seen.add((one, other))


def test_the_kept_graph_is_the_one_a_fresh_evaluation_builds() -> None:
    """The in-memory network edges an evaluation keeps (`network.remembered_graph`) serve a
    later evaluation of the same data only when the graph is the same: an edge that ends, one
    that starts, one recorded after `known_at` and a person who comes of age between two
    instants each give a new graph, and every outcome equals a fresh data's."""
    w = World()
    w.people(1, 2, 3, 4)
    w.subject(5, born=T0.year - 18)  # comes of age with the year
    for sid in (2, 3, 4, 5):
        w.record(sid, "civic.good", day(-400))
    w.edge(1, 2, "contact", valid_to=day(-5))
    w.edge(1, 3, "contact", valid_from=day(-3))
    w.edge(1, 4, "spouse", recorded=day(-2))
    w.edge(1, 5, "contact")
    aged = policy(NET.replace("HOPS", "2").replace("[person]", "[person]\nmin_age: 18"))
    data = EngineData(w.inputs())
    instants = [
        (day(-400), None),
        (day(-6), day(-6)),
        (day(-5), day(-5)),
        (day(-4), day(-4)),
        (day(-3), day(-3)),
        (day(-2), day(-3)),
        (day(-2), day(-2)),
        (day(-1), None),
        (day(1), None),  # 5 comes of age (aged)
    ]
    for p in (net(2), aged):
        for as_of, known_at in instants:
            kept = evaluate(data, p, as_of, known_at, subjects=[1, 2, 5], explain=True)
            fresh = evaluate(EngineData(w.inputs()), p, as_of, known_at, subjects=[1, 2, 5])
            assert kept.scores.equals(fresh.scores), (p.min_age, as_of, known_at)
    assert 1 < len(data.graph_memo) <= network.MEMO_SIZE
    before = [(key, id(held)) for key, held in data.graph_memo.items()]
    evaluate(data, aged, day(1) + timedelta(hours=1), None, subjects=[1])  # the same graph
    assert [(key, id(held)) for key, held in data.graph_memo.items()] == before
