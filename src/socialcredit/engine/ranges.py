"""Ranges of subject ids: how a large evaluation splits its GROUP BYs.

One GROUP BY over a billion records into ninety million groups does not fit a memory limit
(DuckDB then spills its input: 45 GB, and counting, at province size). Split by ranges of
subject ids, each GROUP BY holds one range's groups, and a scan of the lake reads only the row
groups whose sid statistics overlap the range (the lake is sorted by sid within each file).
"""

from __future__ import annotations

from collections.abc import Callable

import ibis

Range = tuple[int, int]  # subject ids start <= sid < stop
Cache = Callable[[ibis.Table], ibis.Table]


def subject_ranges(subjects: ibis.Table, size: int) -> list[Range] | None:
    """Ranges of ids holding about `size` of `subjects` (sid, …) each; None when `size` is 0
    or there are no more subjects than that (one range would be the whole)."""
    if size <= 0:
        return None
    bounds = subjects.aggregate(
        n=subjects.count(), low=subjects.sid.min(), high=subjects.sid.max()
    ).to_pyarrow()
    n, low, high = (bounds[c][0].as_py() for c in ("n", "low", "high"))
    if not n or n <= size:
        return None
    step = -(-(high - low + 1) * size // n)  # the id width holding about `size` subjects
    return [(start, start + step) for start in range(low, high + 1, step)]


def within(column: ibis.IntegerValue, part: Range) -> ibis.BooleanValue:
    return (column >= part[0]) & (column < part[1])


def per_range(
    build: Callable[[Range | None], ibis.Table], ranges: list[Range] | None, cache: Cache
) -> ibis.Table:
    """build(range) cached per range, as one table (no ranges: build(None), all at once)."""
    parts = [cache(build(part)) for part in ranges] if ranges else [cache(build(None))]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
