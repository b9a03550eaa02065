"""What changed for each subject between two evaluations of a policy: the comparison behind
notices (`rights.notices`). It reads the previous evaluation's rows from the store, and the top
factors of adverse changes from one explained subset evaluation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.engine import PlanData, evaluate, explain
from socialcredit.engine.outcome import Outcome
from socialcredit.policy.schema import Policy
from socialcredit.store.schema import decisions, evaluations, outcome_lists, outcome_scores
from socialcredit.timeutil import format_instant, from_us


@dataclass
class NoticeRow:
    subject_id: int
    kind: str
    topic: str
    adverse: bool
    factor_subject: int | None  # whose explanation gives the factors (never another's)
    body: dict[str, Any] = field(default_factory=dict)


class Previous:
    """The rows of the evaluation a new one is compared with (empty when there is none); only
    those of `subjects` when given (a refresh compares the subjects it rewrites)."""

    def __init__(
        self,
        conn: sa.Connection,
        evaluation_id: int | None,
        subjects: Sequence[int] | None = None,
    ) -> None:
        self.conn = conn
        self.as_of: datetime | None = None
        self.decisions: dict[tuple[str, int, int], Any] = {}
        self.lists: dict[tuple[str, int], Any] = {}
        self.scores: dict[int, Any] = {}
        if evaluation_id is None:
            return
        self.as_of = conn.execute(
            sa.select(evaluations.c.as_of).where(evaluations.c.id == evaluation_id)
        ).scalar_one()
        # Without `reasons`: decoding every row's JSON would cost more than the whole
        # comparison; `reasons_of` reads them for the decisions that were lifted only.
        columns = [c for c in decisions.c if c.name != "reasons"]
        query = sa.select(*columns).where(decisions.c.evaluation_id == evaluation_id)
        for d in _of(conn, query, decisions.c.subject_id, subjects):
            self.decisions[(d.measure, d.subject_id, d.cause_subject_id)] = d
        query = sa.select(outcome_lists).where(outcome_lists.c.evaluation_id == evaluation_id)
        for m in _of(conn, query, outcome_lists.c.subject_id, subjects):
            self.lists[(m.list_name, m.subject_id)] = m
        query = sa.select(
            outcome_scores.c.subject_id, outcome_scores.c.score, outcome_scores.c.tier
        ).where(outcome_scores.c.evaluation_id == evaluation_id)
        for s in _of(conn, query, outcome_scores.c.subject_id, subjects):
            self.scores[s.subject_id] = s

    def reasons_of(self, decision_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for start in range(0, len(decision_ids), 5_000):
            query = sa.select(decisions.c.id, decisions.c.reasons).where(
                decisions.c.id.in_(decision_ids[start : start + 5_000])
            )
            out.update({r.id: list(r.reasons) for r in self.conn.execute(query)})
        return out


def _of(
    conn: sa.Connection,
    query: sa.Select[Any],
    column: sa.ColumnElement[int],
    subjects: Sequence[int] | None,
) -> Iterator[Any]:
    """The rows of `query`, or those whose `column` is one of `subjects` (in chunks)."""
    if subjects is None:
        yield from conn.execute(query)
        return
    ids = sorted({int(s) for s in subjects})
    for start in range(0, len(ids), 5_000):
        yield from conn.execute(query.where(column.in_(ids[start : start + 5_000])))


def measure_changes(policy: Policy, outcome: Outcome, previous: Previous) -> list[NoticeRow]:
    rows = []
    now: dict[tuple[str, int, int], dict[str, Any]] = {
        (d["measure"], d["sid"], d["cause_sid"]): d for d in outcome.decisions.to_pylist()
    }
    for (name, sid, cause), d in now.items():
        if (name, sid, cause) in previous.decisions:
            continue
        measure = policy.measure(name)
        body = {
            "measure": name,
            "measure_kind": d["kind"],
            "authority": d["authority"],
            "reason": measure.reason if measure else None,
            "reasons": list(d["reasons"]),
            "since": format_instant(from_us(int(d["since_us"]))),
            "cause_sid": cause,
        }
        body["headline"] = f"{words(name)} now applies to you"
        # A collateral measure rests on another subject's records: its notice names the cause
        # (as the gate check does) but never shows that subject's factors.
        factors_of = sid if cause == sid else None
        rows.append(
            NoticeRow(sid, "measure_applied", name, d["kind"] == "restriction", factors_of, body)
        )
    lifted = [(k, old) for k, old in previous.decisions.items() if k not in now]
    reasons = previous.reasons_of([old.id for _, old in lifted])
    for (name, sid, cause), old in lifted:
        body = {
            "measure": name,
            "measure_kind": old.kind,
            "authority": old.authority,
            "reasons": reasons.get(old.id, []),
            "since": format_instant(old.since),
            "lifted_at": format_instant(outcome.as_of),
            "cause_sid": cause,
            "headline": f"{words(name)} no longer applies to you",
        }
        rows.append(NoticeRow(sid, "measure_lifted", name, old.kind == "privilege", None, body))
    return rows


def list_changes(policy: Policy, outcome: Outcome, previous: Previous) -> list[NoticeRow]:
    kinds = {d.name: d for d in policy.lists}
    rows = []
    now = {(m["list"], m["sid"]): m for m in outcome.lists.to_pylist()}
    for (name, sid), m in now.items():
        if (name, sid) in previous.lists:
            continue
        definition = kinds.get(name)
        kind = definition.kind if definition else "black"
        body = {
            "list": name,
            "list_kind": kind,
            "reason": definition.description if definition else None,
            "since": format_instant(from_us(int(m["since_us"]))),
            "until": format_instant(from_us(int(m["until_us"]))),
            "headline": f"You were entered on the {words(name).lower()} list",
        }
        rows.append(NoticeRow(sid, "list_entered", name, kind == "black", sid, body))
    for (name, sid), old in previous.lists.items():
        if (name, sid) in now:
            continue
        definition = kinds.get(name)
        kind = definition.kind if definition else "black"
        body = {
            "list": name,
            "list_kind": kind,
            "since": format_instant(old.since),
            "left_at": format_instant(outcome.as_of),
            "headline": f"You are no longer on the {words(name).lower()} list",
        }
        rows.append(NoticeRow(sid, "list_exited", name, kind == "red", None, body))
    return rows


def tier_changes(policy: Policy, outcome: Outcome, previous: Previous) -> list[NoticeRow]:
    order = [t.name for t in policy.tiers]
    rows = []
    for s in outcome.scores.select(["sid", "score", "tier"]).to_pylist():
        old = previous.scores.get(s["sid"])
        if old is None or old.tier is None or s["tier"] is None or old.tier == s["tier"]:
            continue
        if old.tier in order and s["tier"] in order:
            lower = order.index(s["tier"]) > order.index(old.tier)
        else:  # a tier the new version no longer has: the score says which way it went
            lower = (s["score"] or 0) < (old.score or 0)
        body = {
            "tier": {"from": old.tier, "to": s["tier"]},
            "score": {"from": old.score, "to": s["score"]},
            "since": format_instant(outcome.as_of),
            "headline": f"Your tier changed from {old.tier} to {s['tier']}",
        }
        rows.append(NoticeRow(s["sid"], "tier_changed", s["tier"], lower, s["sid"], body))
    return rows


def add_factors(data: PlanData, outcome: Outcome, rows: list[NoticeRow]) -> None:
    """The top factors that lowered the subject's score, for each adverse notice about its own
    conduct, from one explained subset evaluation (the same numbers `scs explain` shows).

    An outcome that was itself evaluated with `explain=True` (a subset evaluation: a refresh,
    `outcomes.refresh`) already holds the contributions of every subject it has rows for, and
    a notice is only about those: its factors come from it, without a second evaluation (the
    factors read the contributions only, which are per record and the same bits either way)."""
    policy = outcome.policy
    wanted = sorted({r.factor_subject for r in rows if r.adverse and r.factor_subject})
    for row in rows:
        row.body["factors"] = []
    if not wanted or not policy.scores:
        return
    explained = outcome
    if outcome.contributions is None:
        explained = evaluate(
            data,
            policy,
            outcome.as_of,
            outcome.known_at,
            subjects=wanted,
            distribution=outcome.distribution,
            explain=True,
        )
    factors = {
        sid: [
            {
                "category": f.category,
                "reason": f.reason,
                "effect": round(f.effect, 2),
                "records": len(f.records),
            }
            for f in explain(explained, sid).lowering
        ]
        for sid in wanted
    }
    for row in rows:
        if row.adverse and row.factor_subject:
            row.body["factors"] = factors.get(row.factor_subject, [])


def words(slug: str) -> str:
    return slug.replace("_", " ").capitalize()
