"""Network influence as relational joins: the iteration of `engine.network` on any Ibis backend.

The graph is held once per unordered pair, (a, b, aq) with a < b, and the degrees (sid,
degree). Per hop, both ends of each pair take the other's current value; one join to the values
(j, y) and one GROUP BY s sum the fixed-point terms. Nothing is collected: DuckDB runs it out of
core (spilling past its memory limit), Spark across its executors. The arithmetic is the one of
`network.propagate`, term by term, and every sum is an integer sum, so the two give the same
bits.

With `ranges` (a full evaluation of a large lake, see `engine.ranges`) each GROUP BY runs per
range of subject ids (the pairs by their first end a, the degrees and hop sums by the subject
s), so that it holds one range's groups. Nothing else is kept but the pairs and the degrees
(and the last hop's values, for explanations): about 30 bytes per pair and 16 per subject.
"""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa

from socialcredit.engine.ranges import Cache, Range, per_range, within
from socialcredit.engine.scoring import FIXED
from socialcredit.policy.schema import Network

SHARE = 2.0**53  # fixed-point units of one neighbour's term of N(x)


def _ids(values: np.ndarray) -> ibis.Table:
    return ibis.memtable(pa.table({"sid": pa.array(values, pa.int64())}))


def pair_table(edges: ibis.Table, ranges: list[Range] | None, cache: Cache) -> ibis.Table:
    """(a, b, aq): the edges (src, dst, aq) summed once per unordered pair, a < b."""

    def pairs(part: Range | None) -> ibis.Table:
        one = edges.select(
            a=ibis.least(edges.src, edges.dst), b=ibis.greatest(edges.src, edges.dst), aq=edges.aq
        )
        if part is not None:
            one = one.filter(within(one.a, part))
        return one.group_by("a", "b").aggregate(aq=one.aq.sum())

    return per_range(pairs, ranges, cache)


def mirrored(pairs: ibis.Table, part: Range | None) -> ibis.Table:
    """(s, j, aq) for the subjects s in `part` (None: all): each pair seen from both ends."""
    forth, back = (
        pairs.select(s=pairs.a, j=pairs.b, aq=pairs.aq),
        pairs.select(s=pairs.b, j=pairs.a, aq=pairs.aq),
    )
    if part is not None:
        forth, back = forth.filter(within(forth.s, part)), back.filter(within(back.s, part))
    return ibis.union(forth, back, distinct=False)


class JoinGraph:
    """The network as a table of unordered pairs (a, b, aq) that stays in the engine."""

    def __init__(
        self,
        network: Network,
        pairs: ibis.Table | None,
        cache: Cache,
        ranges: list[Range] | None = None,
    ) -> None:
        self.network, self.cache, self.ranges = network, cache, ranges
        self._pairs: ibis.Table | None = pairs
        self.used: ibis.Table | None = None  # the pairs of the last propagation
        self.last: ibis.Table | None = None

    @property
    def pairs(self) -> ibis.Table:
        """(a, b, aq), a < b: the graph's unordered pairs."""
        assert self._pairs is not None
        return self._pairs

    def ball(self, seeds: np.ndarray, hops: int) -> np.ndarray:
        """The sorted ids within `hops` steps of the seeds, the seeds included."""
        reached = np.unique(seeds.astype(np.int64))
        frontier = reached
        p = self.pairs
        for _ in range(hops):
            if frontier.size == 0:
                break
            ids = _ids(frontier)
            out = p.join(ids, p.a == ids.sid).select(sid=p.b)
            back = p.join(ids, p.b == ids.sid).select(sid=p.a)
            found = ibis.union(out, back, distinct=True).to_pyarrow()["sid"].to_numpy()
            frontier = np.setdiff1d(found.astype(np.int64), reached)
            reached = np.union1d(reached, frontier)
        return reached

    def propagate(self, base: ibis.Table, column: str, complete: bool = False) -> ibis.Table:
        """(sid, `column`): S_net of base's subjects (sid, _base, …), their neighbours among them.

        complete: base holds every subject the pairs join (a full evaluation), so the pairs
        need no restriction to base's subjects, and the sums run per range."""
        network, cache = self.network, self.cache
        p, ranges = self.pairs, self.ranges
        if not complete:  # a subset: keep the pairs between base's subjects
            nodes = base.select("sid")
            p = cache(p.semi_join(nodes.select(a="sid"), "a").semi_join(nodes.select(b="sid"), "b"))
            ranges = None

        def degrees(part: Range | None) -> ibis.Table:
            rows = mirrored(p, part)
            d = rows.group_by("s").aggregate(degree=rows.aq.sum())
            return d.filter(d.degree > 0)

        degree = per_range(degrees, ranges, cache)
        values = base.select("sid", "_base")

        def neighbourhood(y: ibis.Table) -> ibis.Table:
            """(s, q) for the subjects with neighbours; the others' n is 1/2."""

            def sums(part: Range | None) -> ibis.Table:
                rows = mirrored(p, part)
                d = degree if part is None else degree.filter(within(degree.s, part))
                rows = rows.join(d, "s")
                hop = rows.join(y, rows.j == y.sid)
                share = hop.aq.cast("float64") / hop.degree.cast("float64")
                hop = hop.select("s", q=(share * hop.y * SHARE + 0.5).floor().cast("int64"))
                return hop.group_by("s").aggregate(q=hop.q.sum())

            return per_range(sums, ranges, cache)

        def n_of(joined: ibis.Table) -> ibis.FloatingValue:
            n: ibis.FloatingValue = (joined.q.cast("float64") / SHARE).fill_null(0.5)
            return n

        y = values.select("sid", y=values._base)
        for _ in range(network.hops - 1):
            sums = neighbourhood(y)
            step = values.left_join(sums, values.sid == sums.s)
            y = cache(
                step.select(
                    "sid", y=(1.0 - network.damping) * step._base + network.damping * n_of(step)
                )
            )
        sums = neighbourhood(y)
        self.used, self.last = p, y
        joined = values.left_join(sums, values.sid == sums.s)
        return joined.select("sid", **{column: n_of(joined)})

    def influences(self, sids: np.ndarray) -> pa.Table:
        """For explanations: each neighbour's weight a_sj (points) and value y_hops."""
        assert self.used is not None and self.last is not None
        rows, y = mirrored(self.used, None), self.last
        mine = rows.semi_join(_ids(sids).select(s="sid"), "s")
        rows = mine.join(y, mine.j == y.sid)
        rows = rows.select(
            sid=rows.s, neighbour=rows.j, a=rows.aq.cast("float64") / FIXED, y=rows.y
        ).order_by("sid", "neighbour")
        table = rows.to_pyarrow()
        return pa.table(
            {
                "sid": table["sid"].cast(pa.int64()),
                "neighbour": table["neighbour"].cast(pa.int64()),
                "a": table["a"].cast(pa.float64()),
                "y": table["y"].cast(pa.float64()),
            }
        )
