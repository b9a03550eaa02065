"""The peers of `bench_scale.py`: the Sesame score computed by hand in pandas and in Polars.

Each computes what `engine.evaluate` computes for the sesame pack over a generated lake (see
docs/policy.md, "The math"), the way a user would write it with that library:

    raw    = clamp(points + per_unit * value, -cap, cap)         per counted record
    w      = raw * reliability * 2^(-age_days / half_life), in micro-points (floor(w·10^6 + ½))
    R_c    = sum of w over the subject's records of category c    (integer sums)
    S_c    = 1 / (1 + e^(-R_c / k_c))
    B      = sum_c S_c·weight_c / sum_c weight_c                  (the plain categories)
    y_1 = B,  y_(k+1) = (1 - d)·B + d·N(y_k),  S_net = N(y_hops)  (the network category)
    score  = floor(350 + 600 · sum_c S_c·weight_c + ½), capped by the lowest active ceiling

N(x)(s) is the weighted mean of the neighbours' x over the live contact, spouse and household
edges, each term in units of 2^-53 as the engine does, so that the sums are exact. The peers
take `exp` and `2^x` from their library (numpy, Polars), which may differ from the engine's in
the last bit: category values agree within 1e-6, scores exactly (see `bench_scale.compare`).

What the peers leave out, because a generated lake has none of it (the benchmark checks): records
superseded by corrections (`supersedes` is null everywhere) and re-imported edge versions (every
(src, dst, kind, valid_from) is unique). They also compute no measures: the project's row does,
so that difference favours the peers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from socialcredit.policy.schema import Policy

FIXED = 1_000_000.0
SHARE = 2.0**53
US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class Job:
    """One evaluation of one policy: the lake, the instant, where the scores go."""

    lake: Path
    policy: Policy
    as_of: datetime
    out: Path

    @property
    def as_of_us(self) -> int:
        return int(self.as_of.timestamp()) * 1_000_000

    @property
    def oldest_born(self) -> int:
        assert self.policy.min_age is not None
        return self.as_of.year - self.policy.min_age


def rule_rows(policy: Policy, types: list[str]) -> list[dict[str, object]]:
    """One row per record type present: the rule that applies to it (exact type before a
    `prefix.*` pattern, the longest prefix first), as plain numbers."""
    categories = list(policy.categories)
    rows = []
    for record_type in types:
        exact = [r for r in policy.rules if r.type == record_type]
        wild = [
            r for r in policy.rules if r.type.endswith(".*") and record_type.startswith(r.type[:-1])
        ]
        wild.sort(key=lambda r: -len(r.type))
        found = (exact or wild)[:1]
        for rule in found:
            rows.append(
                {
                    "type": record_type,
                    "cat": categories.index(rule.category),
                    "points": float(rule.points),
                    "per_unit": float(rule.per_unit),
                    "cap": np.nan if rule.cap is None else float(rule.cap),
                    "half_life": np.nan if rule.half_life is None else float(rule.half_life),
                    "expires_us": np.nan
                    if rule.expires is None
                    else float(rule.expires * US_PER_DAY),
                    "ceiling": np.nan if rule.ceiling is None else float(rule.ceiling),
                }
            )
    return rows


def plain(policy: Policy) -> list[str]:
    return list(policy.plain_categories)


def plain_weight(policy: Policy) -> float:
    return sum(policy.categories[n].weight or 0.0 for n in policy.plain_categories)


# --- pandas: read everything, merge, groupby, unstack, rank ---------------------------------


def pandas_scores(job: Job) -> int:
    import pandas as pd

    policy = job.policy
    records = pd.read_parquet(
        job.lake / "records", columns=["sid", "source", "type", "occurred_at", "value"]
    )
    records["occurred_us"] = records["occurred_at"].astype("datetime64[us, UTC]").astype("int64")
    records = records[records["occurred_us"] <= job.as_of_us]
    rules = pd.DataFrame(rule_rows(policy, sorted(records["type"].unique())))
    sources = pd.read_parquet(job.lake / "sources", columns=["source", "reliability"])
    r = records.merge(rules, on="type").merge(sources, on="source")
    r = r[r["expires_us"].isna() | (job.as_of_us < r["occurred_us"] + r["expires_us"])]

    unclamped = r["points"] + r["per_unit"] * r["value"].fillna(0.0)
    raw = unclamped.where(r["cap"].isna(), unclamped.clip(-r["cap"], r["cap"]))
    age_days = (job.as_of_us - r["occurred_us"]).astype("float64") / US_PER_DAY
    decay = np.exp2((-age_days / r["half_life"]).fillna(0.0))
    w = (raw * r["reliability"] * decay).clip(-1e9, 1e9)
    r = r.assign(wq=np.floor(w * FIXED + 0.5).astype("int64"))

    sums = r.groupby(["sid", "cat"])["wq"].sum().unstack(fill_value=0)
    per_subject = r.groupby("sid").agg(ceiling=("ceiling", "min"), records=("wq", "size"))

    subjects = pd.read_parquet(job.lake / "subjects", columns=["sid", "kind", "born"])
    people = subjects[subjects["kind"].isin(policy.subjects)]
    people = people[people["born"] <= job.oldest_born][["sid"]]
    t = people.merge(per_subject, on="sid", how="left").merge(
        sums, left_on="sid", right_index=True, how="left"
    )
    t["records"] = t["records"].fillna(0).astype("int64")
    names = list(policy.categories)
    base = None
    for name in plain(policy):
        k = policy.categories[name].sensitivity
        total = t.get(names.index(name), pd.Series(0, index=t.index)).fillna(0)
        t[name] = 1.0 / (1.0 + np.exp(-(total.astype("float64") / FIXED) / k))
        term = t[name] * (policy.categories[name].weight or 0.0)
        base = term if base is None else base + term
    assert base is not None
    t["_base"] = base / plain_weight(policy)

    if policy.network_category:
        t[policy.network_category] = pandas_network(job, t.set_index("sid")["_base"]).to_numpy()
    total = None
    for name in names:
        term = t[name] * (policy.categories[name].weight or 0.0)
        total = term if total is None else total + term
    assert policy.scale is not None and total is not None
    low, high = policy.scale.min, policy.scale.max
    uncapped = np.floor(low + (high - low) * total + 0.5).astype("int64")
    t["score"] = uncapped.where(t["ceiling"].isna(), np.minimum(uncapped, t["ceiling"])).astype(
        "int64"
    )
    t["tier"] = None
    for tier in reversed(policy.tiers):
        t.loc[t["score"] >= tier.min, "tier"] = tier.name
    n = len(t)
    t["percentile"] = (t["score"].rank(method="min") - 1) / (n - 1)
    t = t.sort_values("sid")[["sid", "score", "tier", "percentile", "records", *names]]
    job.out.parent.mkdir(parents=True, exist_ok=True)
    t.to_parquet(job.out, index=False)
    return n


def pandas_network(job: Job, base: object) -> object:
    """S_net per subject of `base` (a Series of B by sid), in base's order."""
    import pandas as pd

    assert isinstance(base, pd.Series)
    policy = job.policy
    assert policy.network_category
    network = policy.categories[policy.network_category].network
    assert network is not None
    columns = ["src", "dst", "kind", "weight", "valid_from", "valid_to"]
    e = pd.read_parquet(job.lake / "relationships", columns=columns)
    at = pd.Timestamp(job.as_of)
    e = e[e["kind"].isin(list(network.relationships))]
    e = e[
        (e["valid_from"].isna() | (e["valid_from"] <= at))
        & (e["valid_to"].isna() | (e["valid_to"] > at))
    ]
    e = e[e["src"].isin(base.index) & e["dst"].isin(base.index) & (e["src"] != e["dst"])]
    a = e["kind"].map(network.relationships).astype("float64") * e["weight"]
    e = e.assign(aq=np.floor(a * FIXED + 0.5).astype("int64"))
    both = pd.concat(
        [
            e[["src", "dst", "aq"]].set_axis(["s", "j", "aq"], axis=1),
            e[["dst", "src", "aq"]].set_axis(["s", "j", "aq"], axis=1),
        ]
    )
    pairs = both.groupby(["s", "j"], as_index=False)["aq"].sum()
    degree = pairs.groupby("s")["aq"].transform("sum")
    pairs = pairs[degree > 0]
    share = pairs["aq"].astype("float64") / degree[degree > 0].astype("float64")

    def neighbourhood(y: pd.Series) -> pd.Series:
        q = np.floor(share.to_numpy() * y.reindex(pairs["j"]).to_numpy() * SHARE + 0.5)
        sums = pd.Series(q.astype("int64")).groupby(pairs["s"].to_numpy()).sum()
        return (sums.astype("float64") / SHARE).reindex(y.index, fill_value=0.5)

    y = base
    for _ in range(network.hops - 1):
        y = (1.0 - network.damping) * base + network.damping * neighbourhood(y)
    return neighbourhood(y)


# --- Polars: lazy, scan_parquet, one plan collected at the end -------------------------------


def polars_scores(job: Job) -> int:
    import polars as pl

    policy = job.policy
    records = pl.scan_parquet(
        job.lake / "records" / "**" / "*.parquet", hive_partitioning=True
    ).select(
        "sid",
        "source",
        "type",
        "value",
        occurred_us=pl.col("occurred_at").dt.epoch("us"),
    )
    records = records.filter(pl.col("occurred_us") <= job.as_of_us)
    types = records.select(pl.col("type").unique()).collect()["type"].sort().to_list()
    rules = pl.LazyFrame(rule_rows(policy, types)).with_columns(
        pl.col(c).fill_nan(None) for c in ("cap", "half_life", "expires_us", "ceiling")
    )
    sources = pl.scan_parquet(job.lake / "sources" / "*.parquet").select("source", "reliability")
    r = records.join(rules, on="type").join(sources, on="source")
    r = r.filter(
        pl.col("expires_us").is_null()
        | (pl.lit(job.as_of_us) < pl.col("occurred_us") + pl.col("expires_us"))
    )
    unclamped = pl.col("points") + pl.col("per_unit") * pl.col("value").fill_null(0.0)
    raw = (
        pl.when(pl.col("cap").is_null())
        .then(unclamped)
        .otherwise(pl.max_horizontal(-pl.col("cap"), pl.min_horizontal(pl.col("cap"), unclamped)))
    )
    age_days = (pl.lit(job.as_of_us) - pl.col("occurred_us")).cast(pl.Float64) / US_PER_DAY
    decay = pl.lit(2.0).pow((-age_days / pl.col("half_life")).fill_null(0.0))
    w = (raw * pl.col("reliability") * decay).clip(-1e9, 1e9)
    r = r.with_columns(wq=(w * FIXED + 0.5).floor().cast(pl.Int64))
    names = list(policy.categories)
    sums = r.group_by("sid").agg(
        pl.col("ceiling").min(),
        records=pl.len(),
        **{
            f"r_{n}": pl.col("wq").filter(pl.col("cat") == names.index(n)).sum()
            for n in plain(policy)
        },
    )
    people = (
        pl.scan_parquet(job.lake / "subjects" / "*.parquet")
        .filter(pl.col("kind").is_in(policy.subjects), pl.col("born") <= job.oldest_born)
        .select("sid")
    )
    t = people.join(sums, on="sid", how="left").with_columns(
        pl.col("records").fill_null(0).cast(pl.Int64),
        *[pl.col(f"r_{n}").fill_null(0) for n in plain(policy)],
    )
    t = t.with_columns(
        (
            1.0
            / (
                1.0
                + (
                    -(pl.col(f"r_{n}").cast(pl.Float64) / FIXED)
                    / (policy.categories[n].sensitivity or 1.0)
                ).exp()
            )
        ).alias(n)
        for n in plain(policy)
    )
    base = None
    for n in plain(policy):
        term = pl.col(n) * (policy.categories[n].weight or 0.0)
        base = term if base is None else base + term
    assert base is not None
    t = t.with_columns(_base=base / plain_weight(policy))
    if policy.network_category:
        t = t.join(polars_network(job, t.select("sid", "_base")), on="sid")
    total = None
    for n in names:
        term = pl.col(n) * (policy.categories[n].weight or 0.0)
        total = term if total is None else total + term
    assert policy.scale is not None and total is not None
    low, high = policy.scale.min, policy.scale.max
    uncapped = (low + (high - low) * total + 0.5).floor().cast(pl.Int64)
    t = t.with_columns(
        score=pl.when(pl.col("ceiling").is_null())
        .then(uncapped)
        .otherwise(pl.min_horizontal(uncapped, pl.col("ceiling").cast(pl.Int64)))
    )
    tier = pl.lit(None, dtype=pl.String)
    for level in reversed(policy.tiers):
        tier = pl.when(pl.col("score") >= level.min).then(pl.lit(level.name)).otherwise(tier)
    t = t.with_columns(
        tier=tier,
        percentile=(pl.col("score").rank("min").cast(pl.Float64) - 1) / (pl.len() - 1),
    )
    result = t.select("sid", "score", "tier", "percentile", "records", *names).sort("sid")
    job.out.parent.mkdir(parents=True, exist_ok=True)
    frame = result.collect()
    frame.write_parquet(job.out)
    return frame.height


def polars_network(job: Job, base: object) -> object:
    """(sid, <network category>) for the subjects of `base` (a LazyFrame of sid, _base)."""
    import polars as pl

    assert isinstance(base, pl.LazyFrame)
    policy = job.policy
    assert policy.network_category
    network = policy.categories[policy.network_category].network
    assert network is not None
    nodes = base.select("sid")
    kind_weight = pl.col("kind").replace_strict(network.relationships, return_dtype=pl.Float64)
    e = (
        pl.scan_parquet(job.lake / "relationships" / "*.parquet")
        .filter(
            pl.col("kind").is_in(list(network.relationships)),
            pl.col("valid_from").is_null() | (pl.col("valid_from") <= job.as_of),
            pl.col("valid_to").is_null() | (pl.col("valid_to") > job.as_of),
            pl.col("src") != pl.col("dst"),
        )
        .join(nodes, left_on="src", right_on="sid", how="semi")
        .join(nodes, left_on="dst", right_on="sid", how="semi")
        .select("src", "dst", aq=(kind_weight * pl.col("weight") * FIXED + 0.5).floor())
        .with_columns(pl.col("aq").cast(pl.Int64))
    )
    both = pl.concat(
        [
            e.select(s="src", j="dst", aq="aq"),
            e.select(s="dst", j="src", aq="aq"),
        ]
    )
    pairs = both.group_by("s", "j").agg(pl.col("aq").sum())
    shares = (
        pairs.with_columns(degree=pl.col("aq").sum().over("s"))
        .filter(pl.col("degree") > 0)
        .select("s", "j", share=pl.col("aq").cast(pl.Float64) / pl.col("degree").cast(pl.Float64))
        .collect()
        .lazy()
    )

    def neighbourhood(y: pl.LazyFrame) -> pl.LazyFrame:
        hop = shares.join(y, left_on="j", right_on="sid").select(
            "s", q=(pl.col("share") * pl.col("y") * SHARE + 0.5).floor().cast(pl.Int64)
        )
        sums = hop.group_by("s").agg(pl.col("q").sum())
        return nodes.join(sums, left_on="sid", right_on="s", how="left").select(
            "sid", n=(pl.col("q").cast(pl.Float64) / SHARE).fill_null(0.5)
        )

    values = base.select("sid", "_base").collect().lazy()
    y = values.select("sid", y=pl.col("_base"))
    for _ in range(network.hops - 1):
        step = values.join(neighbourhood(y), on="sid")
        y = (
            step.select(
                "sid", y=(1.0 - network.damping) * pl.col("_base") + network.damping * pl.col("n")
            )
            .collect()
            .lazy()
        )
    return neighbourhood(y).select("sid", pl.col("n").alias(policy.network_category))
