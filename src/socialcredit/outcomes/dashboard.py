"""The operator dashboard's aggregates, per policy, from its current evaluation.

Every number comes from the stored evaluation (the same rows `scs scores export` and the gate
checks read): the score histogram from the evaluation's stored distribution, the rest from SQL
aggregates over its outcome rows. Nothing here re-scores anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.errors import NotFound
from socialcredit.i18n import Message
from socialcredit.policy.schema import Policy
from socialcredit.store.evaluations import Evaluation, evaluations_of, latest_evaluation
from socialcredit.store.policies import StoredPolicy, latest_policies
from socialcredit.store.schema import decisions, identifiers, outcome_lists, outcome_scores
from socialcredit.store.schema import subjects as subject_table

BINS = 30
SHORTLIST = 10


@dataclass(frozen=True)
class Bin:
    low: int  # inclusive
    high: int  # inclusive
    subjects: int


@dataclass(frozen=True)
class Count:
    name: str
    subjects: int


@dataclass(frozen=True)
class ListSize:
    name: str
    kind: str  # black | red
    public: bool
    subjects: int


@dataclass(frozen=True)
class MeasureInForce:
    measure: str
    kind: str  # restriction | privilege
    authority: str
    decisions: int  # one per target and cause
    subjects: int  # distinct targets
    collateral: int  # decisions whose cause is another subject


@dataclass(frozen=True)
class RegionScores:
    region: str
    subjects: int
    mean: float
    median: float


@dataclass(frozen=True)
class TrendPoint:
    evaluation: int
    as_of: datetime
    scored: int
    mean: float | None
    median: float | None
    listed: int
    decisions: int


@dataclass(frozen=True)
class SubjectLine:
    identifier: str
    name: str
    kind: str
    region: str | None
    score: int | None
    tier: str | None
    note: str  # a list name, or empty


@dataclass(frozen=True)
class PolicySummary:
    name: str
    title: str
    model: str
    evaluation: int | None
    as_of: datetime | None
    scored: int
    listed: int
    decisions: int


@dataclass(frozen=True)
class Dashboard:
    stored: StoredPolicy
    evaluation: Evaluation
    histogram: list[Bin]
    tiers: list[Count]
    lists: list[ListSize]
    measures: list[MeasureInForce]
    regions: list[RegionScores]
    trend: list[TrendPoint]


def summaries(conn: sa.Connection) -> list[PolicySummary]:
    """One line per policy in force: its current evaluation's counts (largest scheme first)."""
    out = []
    for stored in latest_policies(conn):
        try:
            e: Evaluation | None = latest_evaluation(conn, stored.name)
        except NotFound:
            e = None
        counts = e.counts if e else {}
        out.append(
            PolicySummary(
                stored.name,
                stored.title,
                stored.policy.model,
                e.id if e else None,
                e.as_of if e else None,
                counts.get("scored", 0),
                counts.get("listed", 0),
                counts.get("decisions", 0),
            )
        )
    return sorted(out, key=lambda s: (s.evaluation is None, -s.scored, s.name))


def policy_dashboard(conn: sa.Connection, stored: StoredPolicy) -> Dashboard:
    """Every aggregate of the dashboard for one policy (NotFound if it was never evaluated)."""
    evaluation = latest_evaluation(conn, stored.name)
    policy = stored.policy
    return Dashboard(
        stored=stored,
        evaluation=evaluation,
        histogram=histogram(evaluation.distribution, policy),
        tiers=tier_counts(conn, evaluation.id, policy),
        lists=list_sizes(conn, evaluation.id, policy),
        measures=measures_in_force(conn, evaluation.id),
        regions=scores_by_region(conn, evaluation.id) if policy.scores else [],
        trend=trend(conn, stored.name),
    )


def histogram(
    distribution: Iterable[tuple[int, int]], policy: Policy, bins: int = BINS
) -> list[Bin]:
    """The stored (score, count) distribution in at most `bins` equal bins across the scale."""
    pairs = list(distribution)
    if not pairs or not policy.scores:
        return []
    low = policy.scale.min if policy.scale else min(s for s, _ in pairs)
    high = policy.scale.max if policy.scale else max(s for s, _ in pairs)
    low, high = min(low, *(s for s, _ in pairs)), max(high, *(s for s, _ in pairs))
    width = max(1, -(-(high - low + 1) // bins))  # ceiling division
    counts: dict[int, int] = {}
    for score, n in pairs:
        index = (score - low) // width
        counts[index] = counts.get(index, 0) + n
    last = (high - low) // width
    return [
        Bin(low + i * width, min(high, low + (i + 1) * width - 1), counts.get(i, 0))
        for i in range(last + 1)
    ]


def tier_counts(conn: sa.Connection, evaluation_id: int, policy: Policy) -> list[Count]:
    """Subjects per tier, in the policy's order (highest first), zero tiers included."""
    rows = conn.execute(
        sa.select(outcome_scores.c.tier, sa.func.count())
        .where(outcome_scores.c.evaluation_id == evaluation_id, outcome_scores.c.tier.is_not(None))
        .group_by(outcome_scores.c.tier)
    )
    found = {str(tier): int(n) for tier, n in rows}
    return [Count(t.name, found.get(t.name, 0)) for t in policy.tiers]


def list_sizes(conn: sa.Connection, evaluation_id: int, policy: Policy) -> list[ListSize]:
    rows = conn.execute(
        sa.select(outcome_lists.c.list_name, sa.func.count())
        .where(outcome_lists.c.evaluation_id == evaluation_id)
        .group_by(outcome_lists.c.list_name)
    )
    found = {str(name): int(n) for name, n in rows}
    return [ListSize(li.name, li.kind, li.public, found.get(li.name, 0)) for li in policy.lists]


def measures_in_force(conn: sa.Connection, evaluation_id: int) -> list[MeasureInForce]:
    """Decisions per measure and authority; by authority, then the most decisions first."""
    collateral = sa.case((decisions.c.cause_subject_id != decisions.c.subject_id, 1), else_=0)
    rows = conn.execute(
        sa.select(
            decisions.c.measure,
            decisions.c.kind,
            decisions.c.authority,
            sa.func.count(),
            sa.func.count(sa.distinct(decisions.c.subject_id)),
            sa.func.sum(collateral),
        )
        .where(decisions.c.evaluation_id == evaluation_id)
        .group_by(decisions.c.measure, decisions.c.kind, decisions.c.authority)
    )
    found = [
        MeasureInForce(str(m), str(k), str(a), int(n), int(s), int(c or 0))
        for m, k, a, n, s, c in rows
    ]
    return sorted(found, key=lambda m: (m.authority, -m.decisions, m.measure))


MIN_GROUP = 5  # regions with fewer scored subjects are left out of the aggregates


def scores_by_region(conn: sa.Connection, evaluation_id: int) -> list[RegionScores]:
    """Mean and median score per region (regions as registered; by region code); a region with
    fewer than MIN_GROUP scored subjects is left out, so an aggregate never shows a person."""
    rows = conn.execute(
        sa.select(subject_table.c.region, outcome_scores.c.score, sa.func.count())
        .join(subject_table, subject_table.c.id == outcome_scores.c.subject_id)
        .where(outcome_scores.c.evaluation_id == evaluation_id, outcome_scores.c.score.is_not(None))
        .group_by(subject_table.c.region, outcome_scores.c.score)
    )
    by_region: dict[str, list[tuple[int, int]]] = {}
    for region, score, n in rows:
        label = region or Message("unknown")  # a word the page translates (`localize`)
        by_region.setdefault(label, []).append((int(score), int(n)))
    out = []
    for region in sorted(by_region):
        pairs = by_region[region]
        if sum(n for _, n in pairs) < MIN_GROUP:
            continue  # a mean over one or two people is their score
        total = sum(n for _, n in pairs)
        mean = sum(s * n for s, n in pairs) / total
        out.append(RegionScores(region, total, mean, median(pairs)))
    return out


def median(pairs: Iterable[tuple[int, int]]) -> float:
    """The median of a (value, count) distribution."""
    ordered = sorted(pairs)
    total = sum(n for _, n in ordered)
    if total == 0:
        raise ValueError("the median of an empty distribution")
    lower, upper = (total - 1) // 2, total // 2  # the middle positions, counting from 0
    seen, found = 0, []
    for value, n in ordered:
        for position in (lower, upper):
            if seen <= position < seen + n:
                found.append(value)
        seen += n
    return sum(found) / len(found)


def trend(conn: sa.Connection, policy: str) -> list[TrendPoint]:
    """The current evaluations of the policy by as_of (the latest run of each instant): how
    many were scored, mean and median score, list entries and decisions."""
    latest: dict[datetime, Evaluation] = {}
    for e in evaluations_of(conn, policy):
        if e.current:
            latest[e.as_of] = e  # evaluations_of orders by as_of, then id
    chosen = list(latest.values())
    means = dict(
        conn.execute(
            sa.select(outcome_scores.c.evaluation_id, sa.func.avg(outcome_scores.c.score))
            .where(outcome_scores.c.evaluation_id.in_([e.id for e in chosen]))
            .group_by(outcome_scores.c.evaluation_id)
        ).all()
    )
    return [
        TrendPoint(
            e.id,
            e.as_of,
            e.counts.get("scored", 0),
            float(means[e.id]) if means.get(e.id) is not None else None,
            median(e.distribution) if e.distribution else None,
            e.counts.get("listed", 0),
            e.counts.get("decisions", 0),
        )
        for e in chosen
    ]


def lowest_scores(
    conn: sa.Connection, evaluation_id: int, limit: int = SHORTLIST
) -> list[SubjectLine]:
    """The lowest-scored subjects of an evaluation (personal data: staff only)."""
    query = (
        _with_subject(outcome_scores, outcome_scores.c.score, outcome_scores.c.tier, sa.literal(""))
        .where(outcome_scores.c.evaluation_id == evaluation_id, outcome_scores.c.score.is_not(None))
        .order_by(outcome_scores.c.score, outcome_scores.c.subject_id)
        .limit(limit)
    )
    return [_line(row) for row in conn.execute(query)]


def latest_listed(
    conn: sa.Connection, evaluation_id: int, limit: int = SHORTLIST
) -> list[SubjectLine]:
    """The most recent list entries of an evaluation (personal data: staff only)."""
    query = (
        _with_subject(outcome_lists, sa.null(), sa.null(), outcome_lists.c.list_name)
        .where(outcome_lists.c.evaluation_id == evaluation_id)
        .order_by(outcome_lists.c.since.desc(), outcome_lists.c.subject_id)
        .limit(limit)
    )
    return [_line(row) for row in conn.execute(query)]


def _with_subject(table: sa.Table, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """Select the subject's first identifier, name, kind and region, then `columns`, from an
    outcome table."""
    first = sa.and_(identifiers.c.subject_id == table.c.subject_id, identifiers.c.ordinal == 0)
    return (
        sa.select(
            identifiers.c.identifier,
            subject_table.c.name,
            subject_table.c.kind,
            subject_table.c.region,
            *columns,
        )
        .select_from(table)
        .join(subject_table, subject_table.c.id == table.c.subject_id)
        .join(identifiers, first)
    )


def _line(row: Any) -> SubjectLine:
    identifier, name, kind, region, score, tier, note = row
    return SubjectLine(identifier, name, kind, region, score, tier, note)
