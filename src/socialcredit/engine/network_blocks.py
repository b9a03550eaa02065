"""Network influence over row blocks: the pairs leave the engine once, the hops run in numpy.

`network_joins.JoinGraph` runs every hop as engine joins: per range of subjects, the pair rows
join the degrees and then the values of *all* subjects (a hash table of 100 million rows at
province size, built once per range and hop), and a GROUP BY sums the terms. At province size
that was 57% of the evaluation.

`BlockGraph` asks the engine once per range for that range's live edges seen from both ends,
ordered by subject and neighbour, and sums the edges between the same two subjects: a block of CSR
rows (the neighbour's offset in the id span, int32, and its share aq_sj / deg_s, float64: 12 bytes
per directed pair), kept in a file in the spill folder (a graph of one range keeps its one block in
memory). The values are dense arrays over the id span, so that a neighbour's value is `y[offset]`:
no join, no hash table. Each hop reads the blocks back one at a time (its terms in one slice per
core), so that memory holds one block's rows and three arrays of 8 bytes per id of the span,
whatever the number of pairs; the engine lends that memory out of its own limit while the stage
lasts (`EngineData.lend`). At province size: about 6 GB lent; the whole network stage 146 s,
against 629 s as joins (on a slower day).

The arithmetic is `network.propagate`'s, term by term, so the bits are the SciPy path's and
the joins' (see `network`).

It applies to a full evaluation (every subject the pairs join has a value) on an engine in this
process (DuckDB) whose subject ids are dense enough (a span of at most `DENSE` ids per
subject); subsets, explanations and sparse ids go to the joins it extends.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa

from socialcredit.engine.network_joins import SHARE, JoinGraph, mirrored, pair_table
from socialcredit.engine.ranges import Cache, Range
from socialcredit.policy.schema import Network

DENSE = 4  # at most this many ids of span per subject (the arrays are per id of the span)
SMALL_SPAN = 1 << 20  # any span up to this is dense enough (8 MB per array)
PARTS = ("ptr", "j", "w")  # a block's files: indptr, neighbour offsets, shares
WORKERS = os.cpu_count() or 1  # threads per hop (a block's terms, in as many slices)


def row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Per CSR row, the exact sum of its int64 entries (0 for an empty row)."""
    out = np.zeros(len(indptr) - 1, dtype=np.int64)
    filled = np.flatnonzero(indptr[1:] > indptr[:-1])  # reduceat has no empty reduction
    if filled.size:
        out[filled] = np.add.reduceat(values, indptr[:-1][filled])
    return out


Lend = Callable[[int], AbstractContextManager[None]]


def _sum_repeats(s: np.ndarray, j: np.ndarray, aq: np.ndarray) -> None:
    """Rows sorted by (s, j): the edges between the same two subjects (kinds, directions)
    summed into the first row of their run, aq_sj of `network`, and the others' weight set to
    0, in place. A zero weight is a zero share, whose term floor(0 · y · 2^53 + 1/2) is 0: the
    rows need not be moved (repeats are few: 880 in 21 million at medium size)."""
    at = np.flatnonzero((s[1:] == s[:-1]) & (j[1:] == j[:-1])) + 1  # the repeats' rows
    if not at.size:
        return
    new_run = np.concatenate(([True], at[1:] != at[:-1] + 1))
    first = (at[new_run] - 1)[np.cumsum(new_run) - 1]  # the row before each run of repeats
    np.add.at(aq, first, aq[at])
    aq[at] = 0


class _Block:
    """The CSR rows of the subjects with offsets lo <= s - low < hi: in three .npy files in
    `folder`, or, without a folder (a graph of one block), in memory."""

    def __init__(self, folder: Path | None, number: int, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.paths = (
            {} if folder is None else {p: folder / f"block-{number}-{p}.npy" for p in PARTS}
        )
        self._held: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def save(self, indptr: np.ndarray, offsets: np.ndarray, shares: np.ndarray) -> None:
        if not self.paths:
            self._held = (indptr, offsets, shares)
            return
        for part, array in zip(PARTS, (indptr, offsets, shares), strict=True):
            np.save(self.paths[part], array, allow_pickle=False)

    def load(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, offsets, shares)."""
        if self._held is not None:
            return self._held
        indptr, offsets, shares = (np.load(self.paths[part]) for part in PARTS)
        return indptr, offsets, shares

    def n(self, y: np.ndarray, lonely: np.ndarray) -> np.ndarray:
        """N(y) of the block's rows: sum_j floor(share * y_j * 2^53 + 1/2) / 2^53, and 1/2
        for a subject without neighbours."""
        indptr, offsets, shares = self.load()
        terms = np.empty(offsets.size, dtype=np.int64)

        def fill(start: int, stop: int) -> None:  # numpy lets the GIL go: one slice per core
            term = y[offsets[start:stop]]
            term *= shares[start:stop]  # share * y_j: one rounding, either order
            term *= SHARE
            term += 0.5
            np.floor(term, out=term)
            terms[start:stop] = term  # integral already: the cast is exact

        bounds = np.linspace(0, offsets.size, WORKERS + 1).astype(np.int64).tolist()
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(fill, bounds[:-1], bounds[1:]))
        q = row_sums(terms, indptr)
        return np.where(lonely[self.lo : self.hi], 0.5, q.astype(np.float64) / SHARE)


class BlockGraph(JoinGraph):
    """The joins' graph, whose full propagation runs over row blocks in numpy."""

    def __init__(
        self,
        network: Network,
        edges: ibis.Table,
        cache: Cache,
        ranges: list[Range] | None = None,
        folder: str | None = None,
        lend: Lend = lambda _: nullcontext(),
    ) -> None:
        """edges: (src, dst, aq), the live edges (materialized: read once per range).
        folder: where the block files go (None: the system's temporary folder).
        lend(nbytes): the engine gives up that much of its memory limit while numpy holds it.

        The blocks sum parallel edges (two kinds, both directions) themselves, as each block
        is built; the table of pairs that the joins walk is made only if they are asked (a
        subset, an explanation, sparse ids)."""
        super().__init__(network, None, cache, ranges)
        self.edges, self.folder, self.lend = edges, folder, lend
        self._passed: tuple[np.ndarray, int, np.ndarray] | None = None  # sid, low, y_hops

    @property
    def pairs(self) -> ibis.Table:
        if self._pairs is None:
            self._pairs = pair_table(self.edges, self.ranges, self.cache)
        return self._pairs

    def propagate(self, base: ibis.Table, column: str, complete: bool = False) -> ibis.Table:
        if not complete:
            return super().propagate(base, column, complete)
        bounds = base.aggregate(n=base.count(), low=base.sid.min(), high=base.sid.max())
        n, low, high = (bounds.to_pyarrow()[c][0].as_py() for c in ("n", "low", "high"))
        if not n or high - low + 1 > max(DENSE * n, SMALL_SPAN):
            return super().propagate(base, column, complete)
        span = high - low + 1
        blocks = len(self.ranges or [None])
        directed = 2 * int(self.edges.count().to_pyarrow().as_py())
        # Held in numpy: base, y and N(y) per id of the span (8 bytes each), whether it has no
        # neighbours (1), each subject's offset (8), and one block's rows as they are built or
        # read (40 bytes per directed edge at most).
        held = 25 * span + 8 * n + 40 * -(-directed // blocks)
        with self.lend(held):
            values = base.select(offset=base.sid - low, value=base._base).to_pyarrow()
            offsets = values["offset"].to_numpy()
            base_values = np.zeros(span, dtype=np.float64)
            base_values[offsets] = values["value"].to_numpy()
            del values
            # One block stays in memory (what one block of several holds at a time); several
            # go to files, read back one at a time.
            spill: AbstractContextManager[str | None] = (
                tempfile.TemporaryDirectory(prefix="scs-network-", dir=self.folder)
                if blocks > 1
                else nullcontext(None)
            )
            with spill as folder:
                found, lonely = self._blocks(Path(folder) if folder else None, low, span)
                y, last = self._propagated(found, lonely, base_values)
            del base_values, lonely
            sids = offsets + low
            # What each neighbour passed on, for the influences (gathered only if asked).
            self.used, self.last, self._passed = None, None, (sids, low, y)
            del y
            table = pa.table({"sid": sids, column: pa.array(last[offsets], pa.float64())})
            del last
            # Arrow's allocator keeps what the blocks' results freed (a gigabyte or two at
            # province size) for its own reuse; the later stages are DuckDB's.
            pa.default_memory_pool().release_unused()
            return ibis.memtable(table)  # the plan caches it in the engine

    def influences(self, sids: np.ndarray) -> pa.Table:
        if self.last is None and self._passed is not None:
            ids, low, y = self._passed
            self.last = self.cache(ibis.memtable(pa.table({"sid": ids, "y": y[ids - low]})))
            self.used = self.pairs
        return super().influences(sids)

    def _blocks(self, folder: Path | None, low: int, span: int) -> tuple[list[_Block], np.ndarray]:
        """Each range's CSR rows (in files in `folder`, or in memory without one); and which
        subjects have no degree (n = 1/2)."""
        lonely = np.ones(span, dtype=np.bool_)
        offset_type = "int32" if span < 2**31 else "int64"
        blocks = []
        for number, part in enumerate(self.ranges or [None]):
            lo, hi = (
                (0, span) if part is None else (max(part[0] - low, 0), min(part[1] - low, span))
            )
            if lo >= hi:
                continue
            e = self.edges
            rows = mirrored(e.select(a=e.src, b=e.dst, aq=e.aq), part)
            rows = rows.select(
                s=(rows.s - (low + lo)).cast(offset_type),
                j=(rows.j - low).cast(offset_type),
                aq=rows.aq,
            ).order_by("s", "j")
            table = rows.to_pyarrow()
            s, j, aq = (table[c].to_numpy() for c in ("s", "j", "aq"))
            del table
            aq = aq.copy() if not aq.flags.writeable else aq  # (Arrow's own buffer is read-only)
            _sum_repeats(s, j, aq)
            indptr = np.zeros(hi - lo + 1, dtype=np.int64)
            np.cumsum(np.bincount(s, minlength=hi - lo), out=indptr[1:])
            del s
            row_degree = row_sums(aq, indptr)
            lonely[lo:hi] = row_degree <= 0
            shares = aq.astype(np.float64)
            del aq
            # The row's degree, entry by entry: a repeat along the sorted rows (so that the
            # rows' subjects could go first).
            degree = np.repeat(row_degree.astype(np.float64), np.diff(indptr))
            del row_degree
            np.divide(shares, degree, out=shares, where=degree > 0)
            shares[degree <= 0] = 0.0
            del degree
            block = _Block(folder, number, lo, hi)
            block.save(indptr, j, shares)
            blocks.append(block)
        return blocks, lonely

    def _propagated(
        self, blocks: list[_Block], lonely: np.ndarray, base: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """y_hops and S_net = N(y_hops) per id of the span (`network.propagate`'s iteration)."""
        network = self.network

        def neighbourhood(y: np.ndarray) -> np.ndarray:
            n = np.full(y.size, 0.5)  # ids outside every block: no neighbours
            for block in blocks:
                n[block.lo : block.hi] = block.n(y, lonely)
            return n

        y = base
        for _ in range(network.hops - 1):
            y = (1.0 - network.damping) * base + network.damping * neighbourhood(y)
        return y, neighbourhood(y)
