"""Record weights, category values, scores, tiers and percentiles (docs/policy.md, "The math").

Per record r that counts at T:

    raw(r) = clamp(points + per_unit * value, -cap, +cap)
    w(r)   = raw(r) * reliability(source) * 2^(-age_days / half_life)

Each w is rounded to fixed point (micro-points, 1e-6) before it is summed, so a category sum is
an exact integer sum: it does not depend on the order an engine adds in, and every engine and
every thread count gives the same bits. The exponentials (decay, sigmoid) come from
`engine.fmath`, built from basic IEEE operations, for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import numpy as np
import pyarrow as pa

from socialcredit.engine.fmath import with_exp, with_exp2
from socialcredit.engine.typemap import TypeMap
from socialcredit.engine.views import Instant
from socialcredit.policy.schema import Policy
from socialcredit.timeutil import US_PER_DAY

FIXED = 1_000_000  # fixed-point units per point
MAX_WEIGHT = 1e9  # points: 10^15 fixed-point units, so int64 sums hold 9,000 such records


def contributions(
    records: ibis.Table, typemap: TypeMap, sources: ibis.Table, at: Instant
) -> ibis.Table:
    """Every record that counts at T, with its rule, category and weight."""
    r = records.join(typemap.rules, "type").join(sources, "source")
    r = r.filter(r.expires_us.isnull() | (ibis.literal(at.as_of) < r.occurred_us + r.expires_us))
    unclamped = r.points + r.per_unit * r.value.fill_null(0.0)
    raw = ibis.cases(
        (r.cap.isnull(), unclamped), else_=ibis.greatest(-r.cap, ibis.least(r.cap, unclamped))
    )
    age_days = (ibis.literal(at.as_of) - r.occurred_us).cast("float64") / US_PER_DAY
    # No half-life: 2^0, which is exactly 1.
    halvings = ibis.cases((r.half_life_days.isnull(), 0.0), else_=-age_days / r.half_life_days)
    r = with_exp2(r.mutate(raw=raw), decay=halvings)
    # A record weighs at most ±MAX_WEIGHT points, so fixed-point sums cannot overflow.
    weight = r.raw * r.reliability * r.decay
    r = r.mutate(w=ibis.greatest(-MAX_WEIGHT, ibis.least(MAX_WEIGHT, weight)))
    return r.mutate(wq=(r.w * FIXED + 0.5).floor().cast("int64"))


def category_sums(counting: ibis.Table, policy: Policy) -> ibis.Table:
    """Per subject: one fixed-point sum per category (`r_<category>`), the lowest ceiling."""
    aggregates = {
        f"r_{name}": counting.wq.sum(where=counting.cat == index)
        for index, name in enumerate(policy.categories)
        if name in policy.plain_categories
    }
    return counting.group_by("sid").aggregate(
        ceiling=counting.ceiling.min(), records=counting.count(), **aggregates
    )


def base_values(subjects: ibis.Table, sums: ibis.Table, policy: Policy) -> ibis.Table:
    """Subjects joined to their sums; weighted: S_c per category and the base value B."""
    t = subjects.left_join(sums, "sid")
    columns: dict[str, ibis.Value] = {
        "ceiling": t.ceiling,
        "records": t.records.fill_null(0),
    }
    for name in policy.plain_categories:
        columns[f"r_{name}"] = t[f"r_{name}"].fill_null(0)
    t = t.select("sid", **columns)
    if policy.model != "weighted":
        return t
    powers: dict[str, ibis.FloatingValue] = {}
    for name in policy.plain_categories:
        k = policy.categories[name].sensitivity
        powers[f"_e_{name}"] = -(t[f"r_{name}"].cast("float64") / FIXED) / k
    t = with_exp(t, **powers)
    t = t.mutate(
        **{f"s_{name}": 1.0 / (1.0 + t[f"_e_{name}"]) for name in policy.plain_categories}
    ).drop(*powers)
    plain_weight = sum(policy.categories[n].weight or 0.0 for n in policy.plain_categories)
    weighted = [t[f"s_{n}"] * (policy.categories[n].weight or 0.0) for n in policy.plain_categories]
    total = weighted[0]
    for term in weighted[1:]:
        total = total + term
    return t.mutate(_base=total / plain_weight)


def final_scores(t: ibis.Table, policy: Policy) -> ibis.Table:
    """Add `uncapped` (the score before ceilings), `score` and `tier`.

    The weighted model needs s_<network> joined in already.
    """
    assert policy.scale is not None
    low, high = policy.scale.min, policy.scale.max
    if policy.model == "weighted":
        terms = [t[f"s_{n}"] * (policy.categories[n].weight or 0.0) for n in policy.categories]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        score = (low + (high - low) * total + 0.5).floor().cast("int64")
    else:
        fixed = t[f"r_{policy.plain_categories[0]}"]
        for name in policy.plain_categories[1:]:
            fixed = fixed + t[f"r_{name}"]
        unclamped = (policy.base or 0.0) + fixed.cast("float64") / FIXED + 0.5
        score = ibis.greatest(low, ibis.least(high, unclamped.floor().cast("int64")))
    t = t.mutate(uncapped=score)
    t = t.mutate(
        score=ibis.cases((t.ceiling.isnull(), t.uncapped), else_=ibis.least(t.uncapped, t.ceiling))
    )
    if policy.tiers:
        tier = ibis.cases(*[(t.score >= tier.min, tier.name) for tier in policy.tiers])
    else:
        tier = ibis.null("string")
    return t.mutate(tier=tier)


Distribution = list[tuple[int, int]]  # (score, number of subjects), ascending by score


def distribution_of(scores: ibis.Table) -> Distribution:
    counts = scores.group_by("score").aggregate(n=scores.count()).order_by("score").to_pyarrow()
    return list(zip(counts["score"].to_pylist(), counts["n"].to_pylist(), strict=True))


def percentile_table(distribution: Sequence[tuple[int, int]], low: int, high: int) -> pa.Table:
    """percent_rank of every possible score: (number of subjects below it) / (n - 1)."""
    values = np.array([s for s, _ in distribution], dtype=np.int64)
    counts = np.array([c for _, c in distribution], dtype=np.int64)
    total = int(counts.sum())
    possible = np.arange(low, high + 1, dtype=np.int64)
    cumulative = np.concatenate([[0], np.cumsum(counts)])
    below = cumulative[np.searchsorted(values, possible, side="left")]
    percentile = below / (total - 1) if total > 1 else np.zeros(len(possible))
    return pa.table({"score": possible, "percentile": percentile.astype(np.float64)})
