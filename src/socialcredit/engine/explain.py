"""Explanations: why a subject has its score, from an `evaluate(..., explain=True)` outcome.

The counting records are grouped by their rule's `reason` and ranked by |effect|. As with the
reason codes of an adverse-action notice, the (at most four) factors that lowered the score most
come first, then every other factor by size.

The policy's texts (a factor's `reason`, a category's `label`, the `ceiling_reasons`) are kept
as the policy gives them, a string or a map from language tag to string: whoever shows them
resolves them in the reader's language with `socialcredit.i18n.text` (`rights.reports`'s
`report_document` does it for JSON and pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from socialcredit.engine.outcome import Outcome
from socialcredit.engine.scoring import FIXED
from socialcredit.i18n import DEFAULT, Localized, text
from socialcredit.timeutil import from_us

TOP_LOWERING = 4


@dataclass(frozen=True)
class RecordEffect:
    source: str
    record_id: str
    type: str
    occurred_at: datetime
    value: float | None
    points: float  # raw(r): points + per_unit * value, clamped by cap
    reliability: float
    decay: float
    effect: float  # w(r), as summed (fixed point)


@dataclass(frozen=True)
class Factor:
    category: str
    reason: Localized  # the rule's reason, as the policy gives it
    effect: float
    records: list[RecordEffect]


@dataclass(frozen=True)
class CategoryValue:
    name: str
    label: Localized  # the category's label as the policy gives it, else its name in words
    weight: float | None
    value: float  # S_c (weighted) or R_c (points)
    total: float | None  # R_c in the weighted model (None for the network category)


@dataclass(frozen=True)
class Influence:
    neighbour: int
    share: float  # a_sj / sum_j a_sj
    value: float  # y_hops(j), what the neighbour passed on


@dataclass(frozen=True)
class Explanation:
    policy: str
    sid: int
    score: int | None
    tier: str | None
    percentile: float | None
    categories: list[CategoryValue]
    lowering: list[Factor]  # the top factors that lowered the score
    factors: list[Factor]  # all factors: lowering first, then the rest by |effect|
    ceiling: int | None  # the ceiling that lowered the score, if one did
    ceiling_reasons: list[Localized]
    lists: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    influences: list[Influence] = field(default_factory=list)


def explain(outcome: Outcome, sid: int) -> Explanation:
    policy = outcome.policy
    scores = _rows_of(outcome.scores, sid)
    row = scores[0] if scores else None
    contributions = _rows_of(outcome.contributions, sid) if outcome.contributions else []
    categories = list(policy.categories)
    # A ceiling is reported only when it lowered the score.
    capped = row is not None and row["ceiling"] is not None and row["uncapped"] > row["ceiling"]
    groups: dict[tuple[str, Any], list[tuple[int, RecordEffect]]] = {}
    reasons: dict[Any, Localized] = {}
    ceilings: list[Localized] = []
    for c in contributions:
        rule = policy.rules[c["rule"]]
        effect = RecordEffect(
            source=c["source"],
            record_id=c["record_id"],
            type=c["type"],
            occurred_at=from_us(c["occurred_us"]),
            value=c["value"],
            points=c["raw"],
            reliability=c["reliability"],
            decay=c["decay"],
            effect=c["wq"] / FIXED,
        )
        reason = _hashable(rule.reason)
        reasons[reason] = rule.reason
        groups.setdefault((categories[c["cat"]], reason), []).append((c["wq"], effect))
        if capped and rule.ceiling == row["ceiling"]:  # type: ignore[index]
            where = f" ({c['source']}/{c['record_id']}, {effect.occurred_at:%Y-%m-%d})"
            ceilings.append(_suffixed(rule.reason, where))
    factors = [
        Factor(
            category=category,
            reason=reasons[reason],
            effect=sum(wq for wq, _ in items) / FIXED,
            records=[e for _, e in sorted(items, key=lambda i: (-abs(i[0]), i[1].record_id))],
        )
        for (category, reason), items in groups.items()
    ]
    # Ties are broken by the English text, so the order is the same in every language.
    lowering = sorted(
        (f for f in factors if f.effect < 0), key=lambda f: (f.effect, text(f.reason, DEFAULT))
    )
    lowering = lowering[:TOP_LOWERING]
    rest = sorted(
        (f for f in factors if f not in lowering),
        key=lambda f: (-abs(f.effect), text(f.reason, DEFAULT)),
    )
    values = []
    for name, category in policy.categories.items():
        total = None
        if row is not None and category.network is None and policy.model == "weighted":
            total = sum(f.effect for f in factors if f.category == name)
        values.append(
            CategoryValue(
                name=name,
                label=category.label or name.replace("_", " ").capitalize(),
                weight=category.weight if policy.model == "weighted" else None,
                value=float(row[name]) if row is not None else 0.0,
                total=total,
            )
        )
    influences = []
    if outcome.influences is not None:
        mine = _rows_of(outcome.influences, sid)
        degree = sum(i["a"] for i in mine)
        influences = sorted(
            (Influence(i["neighbour"], i["a"] / degree, i["y"]) for i in mine),
            key=lambda i: (-i.share, i.neighbour),
        )
    return Explanation(
        policy=policy.name,
        sid=sid,
        score=row["score"] if row else None,
        tier=row["tier"] if row else None,
        percentile=row["percentile"] if row else None,
        categories=values if row else [],
        lowering=lowering,
        factors=lowering + rest,
        ceiling=row["ceiling"] if capped and row else None,
        ceiling_reasons=ceilings,
        lists=_rows_of(outcome.lists, sid),
        decisions=_rows_of(outcome.decisions, sid),
        influences=influences,
    )


def _hashable(value: Localized) -> Any:
    """A policy text as a key: rules with the same reason (in every language) are one factor."""
    return value if isinstance(value, str) else tuple(sorted(value.items()))


def _suffixed(value: Localized, suffix: str) -> Localized:
    """`value` with `suffix` after its text in each language."""
    if isinstance(value, str):
        return value + suffix
    return {tag: entry + suffix for tag, entry in value.items()}


def _rows_of(table: pa.Table | None, sid: int) -> list[dict[str, Any]]:
    if table is None or table.num_rows == 0:
        return []
    mask = pa.compute.equal(table["sid"], sid)
    rows: list[dict[str, Any]] = table.filter(mask).to_pylist()
    return rows
