"""Network influence: sparse propagation of base values over the relationship graph.

    N(x)(s) = sum_j a_sj x(j) / sum_j a_sj      (0.5 when s has no neighbours)
    y_1 = B,  y_(k+1) = (1 - d) B + d N(y_k),  S_net = N(y_hops)

`a_sj` sums kind weight x edge weight over the listed edges between s and j, in either
direction, among subjects the policy scores. The adjacency is built in a canonical order (sorted
by row, column, value), so a row's sum is the same float whatever order the edges arrive in, and
a subset evaluation over a large enough ball reproduces the full evaluation bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from socialcredit.engine.data import EngineData
from socialcredit.engine.views import Instant, live_edges
from socialcredit.policy.schema import Network


@dataclass(frozen=True)
class Edges:
    """Undirected weighted edges as parallel arrays (one entry per stored edge)."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray


def network_edges(data: EngineData, network: Network, scope: ibis.Table, at: Instant) -> Edges:
    kinds: list[str] = list(network.relationships)
    e = live_edges(data, at, kinds)
    e = e.semi_join(scope.select(src="sid"), "src").semi_join(scope.select(dst="sid"), "dst")
    e = e.filter(e.src != e.dst)
    kind_weight = ibis.cases(*[(e.kind == k, w) for k, w in network.relationships.items()])
    table = e.select("src", "dst", a=(kind_weight * e.weight).cast("float64")).to_pyarrow()
    return Edges(
        src=table["src"].to_numpy(),
        dst=table["dst"].to_numpy(),
        weight=table["a"].to_numpy(),
    )


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
    """Symmetric adjacency over `nodes` (sorted ids), duplicates summed in canonical order."""
    n = len(nodes)
    rows = np.concatenate([edges.src, edges.dst])
    cols = np.concatenate([edges.dst, edges.src])
    vals = np.concatenate([edges.weight, edges.weight]).astype(np.float64)
    r = np.searchsorted(nodes, rows)
    c = np.searchsorted(nodes, cols)
    inside = (r < n) & (c < n)
    inside[inside] &= (nodes[r[inside]] == rows[inside]) & (nodes[c[inside]] == cols[inside])
    r, c, vals = r[inside], c[inside], vals[inside]
    order = np.lexsort((vals, c, r))
    r, c, vals = r[order], c[order], vals[order]
    if len(r):
        starts = np.flatnonzero(np.concatenate([[True], (r[1:] != r[:-1]) | (c[1:] != c[:-1])]))
        vals = _segment_sums(vals, starts)
        r, c = r[starts], c[starts]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    return sp.csr_array((vals, c.astype(np.int64), indptr), shape=(n, n))


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Left-to-right sums of consecutive segments (deterministic for a given segment)."""
    ends = np.append(starts[1:], len(values))
    out = values[starts].copy()
    longest = int((ends - starts).max())
    for offset in range(1, longest):
        more = starts + offset < ends
        out[more] += values[starts[more] + offset]
    result: np.ndarray = out
    return result


@dataclass(frozen=True)
class Propagation:
    nodes: np.ndarray  # sorted ids
    values: np.ndarray  # S_net per node (exact for nodes whose `hops`-ball lies inside `nodes`)
    last: np.ndarray  # y_hops per node: what each neighbour passed on
    matrix: sp.csr_array


def propagate(nodes: np.ndarray, base: np.ndarray, edges: Edges, network: Network) -> Propagation:
    matrix = adjacency(nodes, edges)
    degree = matrix @ np.ones(len(nodes))
    lonely = degree == 0
    safe = np.where(lonely, 1.0, degree)

    def neighbourhood(x: np.ndarray) -> np.ndarray:
        return np.where(lonely, 0.5, (matrix @ x) / safe)

    y = base
    for _ in range(network.hops - 1):
        y = (1.0 - network.damping) * base + network.damping * neighbourhood(y)
    return Propagation(nodes=nodes, values=neighbourhood(y), last=y, matrix=matrix)


def influence_table(propagation: Propagation, sids: np.ndarray) -> pa.Table:
    """For explanations: each neighbour's share of a subject's network value."""
    rows: dict[str, list[Any]] = {"sid": [], "neighbour": [], "a": [], "y": []}
    matrix = propagation.matrix
    for sid in sids:
        i = int(np.searchsorted(propagation.nodes, sid))
        if i >= len(propagation.nodes) or propagation.nodes[i] != sid:
            continue
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        for j, a in zip(matrix.indices[start:end], matrix.data[start:end], strict=True):
            rows["sid"].append(int(sid))
            rows["neighbour"].append(int(propagation.nodes[j]))
            rows["a"].append(float(a))
            rows["y"].append(float(propagation.last[j]))
    return pa.table(
        {
            "sid": pa.array(rows["sid"], pa.int64()),
            "neighbour": pa.array(rows["neighbour"], pa.int64()),
            "a": pa.array(rows["a"], pa.float64()),
            "y": pa.array(rows["y"], pa.float64()),
        }
    )
