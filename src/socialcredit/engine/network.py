"""Network influence: propagation of base values over the relationship graph.

    N(x)(s) = sum_j a_sj x(j) / sum_j a_sj      (0.5 when s has no neighbours)
    y_1 = B,  y_(k+1) = (1 - d) B + d N(y_k),  S_net = N(y_hops)

`a_sj` sums kind weight x edge weight over the listed edges between s and j, in either
direction, among subjects the policy scores. Every sum is an integer sum, so no engine's order
of addition can change a bit:

    aq_e   = floor(a_e * FIXED + 1/2)                        per stored edge (micro-units)
    aq_sj  = sum of aq_e over the edges between s and j;  deg_s = sum_j aq_sj
    share  = aq_sj / deg_s                                   (one float division)
    N(x)(s) = sum_j floor(share * x(j) * 2^53 + 1/2) / 2^53   (each term at most 2^53)

Three implementations of that one iteration, which give the same bits:
- `SparseGraph`: SciPy CSR, in memory; fast on graphs that fit, and it saves the engine's fixed
  cost per query on small ones (tests, subset refreshes, explanations);
- `network_joins.JoinGraph`: per hop one join of the pairs to the current values and one GROUP
  BY, on any Ibis backend, out of core (Spark's, and DuckDB's for subsets and explanations);
- `network_blocks.BlockGraph`: a full evaluation on DuckDB, the edges read out once per range
  of subjects as CSR row blocks (summed per pair as they are built), each hop in numpy.
`network_graph` picks: SciPy while the live edges number at most the backend's
`sparse_edge_limit`; above it, blocks on DuckDB (unless its `network_blocks` is False), joins
on Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from socialcredit.engine.data import EngineData, PlanData
from socialcredit.engine.network_blocks import BlockGraph, row_sums
from socialcredit.engine.network_joins import SHARE, JoinGraph, pair_table
from socialcredit.engine.ranges import Range
from socialcredit.engine.scoring import FIXED
from socialcredit.engine.views import Instant, live_edges
from socialcredit.policy.schema import Network, Policy
from socialcredit.timeutil import from_us


class Graph(Protocol):
    """The live network of one evaluation."""

    def ball(self, seeds: np.ndarray, hops: int) -> np.ndarray:
        """The sorted ids within `hops` steps of the seeds, the seeds included."""
        ...

    def propagate(self, base: ibis.Table, column: str, complete: bool = False) -> ibis.Table:
        """(sid, `column`): the network value of base's subjects (sid, _base, …) (`complete`:
        base holds every subject the edges join)."""
        ...

    def influences(self, sids: np.ndarray) -> pa.Table:
        """For explanations: (sid, neighbour, a, y) of the given subjects."""
        ...


def edge_table(data: PlanData, network: Network, scope: ibis.Table, at: Instant) -> ibis.Table:
    """(src, dst, aq): the live listed edges among scored subjects, aq in fixed point."""
    kinds: list[str] = list(network.relationships)
    e = live_edges(data, at, kinds)
    e = e.semi_join(scope.select(src="sid"), "src").semi_join(scope.select(dst="sid"), "dst")
    e = e.filter(e.src != e.dst)
    kind_weight = ibis.cases(*[(e.kind == k, w) for k, w in network.relationships.items()])
    a = kind_weight * e.weight
    return e.select("src", "dst", aq=(a * FIXED + 0.5).floor().cast("int64"))


MEMO_SIZE = 4  # graphs kept per engine data (one per network policy and instant class)


def graph_key(data: PlanData, policy: Policy, at: Instant) -> tuple[Any, ...] | None:
    """What the live network of `policy` at `at` is built from, as a key that two instants
    share exactly when the graph is the same: the registry's subjects and relationships
    tables (by identity: they are replaced, never changed in place), the policy's scope and
    network, and, per condition an edge or subject is selected by, how many rows meet it.

    Each condition selects a set that only grows (valid_from <= T, valid_to <= T,
    recorded <= K, registered <= K) as the instant moves on, so two instants whose counts are
    equal select the same rows (nested sets of equal size are equal); `min_age` reads T's
    year. None when the data are not in memory (a lake's or Spark's: not kept)."""
    if not isinstance(data, EngineData) or data.extra:
        return None
    assert policy.network_category is not None
    network = policy.categories[policy.network_category].network
    assert network is not None
    e, s = data.inputs.relationships, data.inputs.subjects

    def count(column: pa.ChunkedArray, bound: int) -> int:
        return int(pc.sum(pc.less_equal(column, bound)).as_py() or 0)

    counts: tuple[Any, ...] = (
        count(e["valid_from_us"], at.as_of),
        count(e["valid_to_us"], at.as_of),
        None if at.known_at is None else count(e["recorded_us"], at.known_at),
        None if at.known_at is None else count(s["registered_us"], at.known_at),
        from_us(at.as_of).year if policy.min_age is not None else None,
    )
    spec = (
        tuple(policy.subjects),
        policy.region,
        policy.min_age,
        tuple(sorted(network.relationships.items())),
    )
    return (id(e), id(s), spec, counts)


def remembered_graph(
    data: PlanData,
    policy: Policy,
    at: Instant,
    build: Callable[[], SparseGraph | JoinGraph | BlockGraph],
) -> SparseGraph | JoinGraph | BlockGraph:
    """`build()`, or a graph over the in-memory edges an earlier evaluation of the same data
    built for the same key (`graph_key`): a refresh's dependency rule and its evaluation,
    and the next refreshes until the relationships change, share one. Only SciPy's edges are
    kept (numpy arrays; the blocks and joins live in the engine's cached tables)."""
    key = graph_key(data, policy, at)
    if key is None:
        return build()
    assert isinstance(data, EngineData) and policy.network_category is not None
    network = policy.categories[policy.network_category].network
    assert network is not None
    memo = data.graph_memo
    held = memo.get(key)
    if held is not None:
        relationships, subjects, edges = held
        # The memo holds the tables, so their ids are not reused while the key is held.
        if relationships is data.inputs.relationships and subjects is data.inputs.subjects:
            return SparseGraph(network, edges)
    graph = build()
    if isinstance(graph, SparseGraph):
        while len(memo) >= MEMO_SIZE:
            memo.pop(next(iter(memo)))
        memo[key] = (data.inputs.relationships, data.inputs.subjects, graph.edges)
    return graph


def network_graph(
    data: PlanData,
    network: Network,
    scope: ibis.Table,
    at: Instant,
    ranges: list[Range] | None = None,
) -> SparseGraph | JoinGraph | BlockGraph:
    """SciPy for graphs of at most the backend's `sparse_edge_limit` live edges; above it,
    blocks (`network_blocks`, DuckDB) or joins (Spark).

    The live edges among scored subjects are computed once (their scope joins are the costly
    part). SciPy and the joins take them summed once per unordered pair in the engine (per
    range of the first end's id with `ranges`, see `engine.ranges`); the blocks sum them as
    they are built."""
    edges = data.cache(edge_table(data, network, scope, at))
    limit = data.sparse_edge_limit
    if limit > 0 and int(edges.count().to_pyarrow().as_py()) <= limit:
        table = pair_table(edges, None, data.cache).to_pyarrow()
        return SparseGraph(
            network,
            Edges(
                src=table["a"].to_numpy(), dst=table["b"].to_numpy(), weight=table["aq"].to_numpy()
            ),
        )
    if isinstance(data, EngineData) and data.network_blocks:  # Spark's pairs stay in the cluster
        return BlockGraph(network, edges, data.cache, ranges, data.temp_directory, data.lend)
    # The edges' cache is dropped once the pairs are made (nothing else refers to it).
    return JoinGraph(network, pair_table(edges, ranges, data.cache), data.cache, ranges)


@dataclass(frozen=True)
class Edges:
    """Undirected edges as parallel arrays (one entry per stored edge), weights in fixed point."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray  # int64


def ball(edges: Edges, seeds: np.ndarray, hops: int) -> np.ndarray:
    """The sorted ids within `hops` steps of the seeds, the seeds included."""
    reached = np.unique(seeds.astype(np.int64))
    frontier = reached
    for _ in range(hops):
        if frontier.size == 0:
            break
        out = edges.dst[np.isin(edges.src, frontier)]
        back = edges.src[np.isin(edges.dst, frontier)]
        found = np.unique(np.concatenate([out, back]))
        frontier = np.setdiff1d(found, reached, assume_unique=True)
        reached = np.union1d(reached, frontier)
    return reached


def adjacency(nodes: np.ndarray, edges: Edges) -> sp.csr_array:
    """Symmetric adjacency over `nodes` (sorted ids): aq_sj, exact integer sums."""
    n = len(nodes)
    rows = np.concatenate([edges.src, edges.dst])
    cols = np.concatenate([edges.dst, edges.src])
    vals = np.concatenate([edges.weight, edges.weight]).astype(np.int64)
    r = np.searchsorted(nodes, rows)
    c = np.searchsorted(nodes, cols)
    inside = (r < n) & (c < n)
    inside[inside] &= (nodes[r[inside]] == rows[inside]) & (nodes[c[inside]] == cols[inside])
    matrix = sp.csr_array((vals[inside], (r[inside], c[inside])), shape=(n, n))
    matrix.sum_duplicates()
    return matrix


@dataclass(frozen=True)
class Propagation:
    nodes: np.ndarray  # sorted ids
    values: np.ndarray  # S_net per node (exact for nodes whose `hops`-ball lies inside `nodes`)
    last: np.ndarray  # y_hops per node: what each neighbour passed on
    matrix: sp.csr_array  # aq_sj


def propagate(nodes: np.ndarray, base: np.ndarray, edges: Edges, network: Network) -> Propagation:
    matrix = adjacency(nodes, edges)
    degree = row_sums(matrix.data, matrix.indptr)
    row_degree = np.repeat(degree, np.diff(matrix.indptr)).astype(np.float64)
    share = np.divide(
        matrix.data.astype(np.float64),
        row_degree,
        out=np.zeros(matrix.nnz, dtype=np.float64),
        where=row_degree > 0,
    )
    lonely = degree == 0

    def neighbourhood(x: np.ndarray) -> np.ndarray:
        terms = np.floor(share * x[matrix.indices] * SHARE + 0.5).astype(np.int64)
        sums = row_sums(terms, matrix.indptr)
        return np.where(lonely, 0.5, sums.astype(np.float64) / SHARE)

    y = base
    for _ in range(network.hops - 1):
        y = (1.0 - network.damping) * base + network.damping * neighbourhood(y)
    return Propagation(nodes=nodes, values=neighbourhood(y), last=y, matrix=matrix)


class SparseGraph:
    """The network in memory: numpy edges, SciPy CSR propagation."""

    def __init__(self, network: Network, edges: Edges) -> None:
        self.network, self.edges = network, edges
        self.propagation: Propagation | None = None

    def ball(self, seeds: np.ndarray, hops: int) -> np.ndarray:
        return ball(self.edges, seeds, hops)

    def propagate(self, base: ibis.Table, column: str, complete: bool = False) -> ibis.Table:
        values = base.select("sid", "_base").order_by("sid").to_pyarrow()
        nodes = values["sid"].to_numpy()
        self.propagation = propagate(nodes, values["_base"].to_numpy(), self.edges, self.network)
        influence = ibis.memtable(
            pa.table({"sid": nodes, column: pa.array(self.propagation.values, pa.float64())})
        )
        # Joined to base so that the table is base's backend's (a memtable alone would be
        # cached in Ibis's default backend).
        return base.select("sid").join(influence, "sid")

    def influences(self, sids: np.ndarray) -> pa.Table:
        assert self.propagation is not None
        return influence_table(self.propagation, sids)


def influence_table(propagation: Propagation, sids: np.ndarray) -> pa.Table:
    """For explanations: each neighbour's weight a_sj (points) and value y_hops."""
    found: dict[str, list[np.ndarray]] = {"sid": [], "neighbour": [], "a": [], "y": []}
    matrix = propagation.matrix
    for sid in sids:
        i = int(np.searchsorted(propagation.nodes, sid))
        if i >= len(propagation.nodes) or propagation.nodes[i] != sid:
            continue
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        columns = matrix.indices[start:end]
        found["sid"].append(np.full(end - start, sid, dtype=np.int64))
        found["neighbour"].append(propagation.nodes[columns].astype(np.int64))
        found["a"].append(matrix.data[start:end].astype(np.float64) / FIXED)
        found["y"].append(propagation.last[columns].astype(np.float64))
    return pa.table(
        {
            "sid": pa.array(np.concatenate(found["sid"] or [np.empty(0, np.int64)])),
            "neighbour": pa.array(np.concatenate(found["neighbour"] or [np.empty(0, np.int64)])),
            "a": pa.array(np.concatenate(found["a"] or [np.empty(0, np.float64)])),
            "y": pa.array(np.concatenate(found["y"] or [np.empty(0, np.float64)])),
        }
    )
