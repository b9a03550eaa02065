"""Network influence as relational joins: the iteration of `engine.network` on any Ibis backend.

Per hop, the shares (s, j, share) join the current values (j, y) and one GROUP BY s sums the
fixed-point terms. Nothing is collected: DuckDB runs it out of core (spilling past its memory
limit), Spark across its executors. The arithmetic is the one of `network.propagate`, term by
term, and every sum is an integer sum, so the two give the same bits.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import numpy as np
import pyarrow as pa

from socialcredit.engine.scoring import FIXED
from socialcredit.policy.schema import Network

SHARE = 2.0**53  # fixed-point units of one neighbour's term of N(x)


def _ids(values: np.ndarray) -> ibis.Table:
    return ibis.memtable(pa.table({"sid": pa.array(values, pa.int64())}))


class JoinGraph:
    """The network as a table of edges (src, dst, aq) that stays in the engine."""

    def __init__(
        self, network: Network, edges: ibis.Table, cache: Callable[[ibis.Table], ibis.Table]
    ) -> None:
        self.network, self.edges, self.cache = network, edges, cache
        self.pairs: ibis.Table | None = None
        self.last: ibis.Table | None = None

    def ball(self, seeds: np.ndarray, hops: int) -> np.ndarray:
        """The sorted ids within `hops` steps of the seeds, the seeds included."""
        reached = np.unique(seeds.astype(np.int64))
        frontier = reached
        e = self.edges
        for _ in range(hops):
            if frontier.size == 0:
                break
            ids = _ids(frontier)
            out = e.join(ids, e.src == ids.sid).select(sid=e.dst)
            back = e.join(ids, e.dst == ids.sid).select(sid=e.src)
            found = ibis.union(out, back, distinct=True).to_pyarrow()["sid"].to_numpy()
            frontier = np.setdiff1d(found.astype(np.int64), reached)
            reached = np.union1d(reached, frontier)
        return reached

    def propagate(self, base: ibis.Table, column: str, complete: bool = False) -> ibis.Table:
        """(sid, `column`): S_net of base's subjects (sid, _base, …), their neighbours among them.

        complete: base holds every subject the edges join (a full evaluation), so the edges
        need no restriction to base's subjects."""
        network = self.network
        e = self.edges
        if not complete:  # a subset: keep the edges between base's subjects
            nodes = base.select("sid")
            e = e.semi_join(nodes.select(src="sid"), "src").semi_join(
                nodes.select(dst="sid"), "dst"
            )
        # The edges between two subjects, in either direction, summed once per unordered pair
        # (half the rows of summing both directions), then mirrored.
        one = e.select(a=ibis.least(e.src, e.dst), b=ibis.greatest(e.src, e.dst), aq=e.aq)
        one = one.group_by("a", "b").aggregate(aq=one.aq.sum())
        pairs = self.cache(
            ibis.union(
                one.select(s=one.a, j=one.b, aq=one.aq),
                one.select(s=one.b, j=one.a, aq=one.aq),
                distinct=False,
            )
        )
        degree = pairs.group_by("s").aggregate(degree=pairs.aq.sum())
        degree = degree.filter(degree.degree > 0)
        shares = pairs.join(degree, "s")
        shares = self.cache(
            shares.select("s", "j", share=shares.aq.cast("float64") / shares.degree.cast("float64"))
        )
        values = base.select("sid", "_base")

        def neighbourhood(y: ibis.Table) -> ibis.Table:
            """(s, n) for the subjects with neighbours; the others' n is 1/2."""
            hop = shares.join(y, shares.j == y.sid)
            hop = hop.select("s", q=(hop.share * hop.y * SHARE + 0.5).floor().cast("int64"))
            return hop.group_by("s").aggregate(q=hop.q.sum())

        def n_of(joined: ibis.Table) -> ibis.FloatingValue:
            n: ibis.FloatingValue = (joined.q.cast("float64") / SHARE).fill_null(0.5)
            return n

        y = values.select("sid", y=values._base)
        for _ in range(network.hops - 1):
            sums = neighbourhood(y)
            step = values.left_join(sums, values.sid == sums.s)
            y = self.cache(
                step.select(
                    "sid", y=(1.0 - network.damping) * step._base + network.damping * n_of(step)
                )
            )
        sums = neighbourhood(y)
        self.pairs, self.last = pairs, y
        joined = values.left_join(sums, values.sid == sums.s)
        return joined.select("sid", **{column: n_of(joined)})

    def influences(self, sids: np.ndarray) -> pa.Table:
        """For explanations: each neighbour's weight a_sj (points) and value y_hops."""
        assert self.pairs is not None and self.last is not None
        p, y = self.pairs, self.last
        mine = p.semi_join(_ids(sids).select(s="sid"), "s")
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
