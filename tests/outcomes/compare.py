"""Comparing a refreshed current evaluation with a fresh full evaluation of the same log at the
same instant, row by row as stored (the full one is stored beside it, not current)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.engine import EngineData, evaluate
from socialcredit.store.db import snapshot, writing
from socialcredit.store.evaluations import latest_evaluation, save_evaluation
from socialcredit.store.policies import latest_policies
from socialcredit.store.schema import decisions, evaluations, outcome_lists, outcome_scores
from socialcredit.store.snapshot import load_inputs
from socialcredit.timeutil import now

Rows = dict[str, dict[Any, tuple[Any, ...]]]


def stored_rows(conn: sa.Connection, evaluation_id: int) -> Rows:
    """An evaluation's rows as stored: scores by subject, list and decision rows by key."""
    scores = {
        r.subject_id: (r.score, r.tier, r.percentile, r.ceiling, r.categories)
        for r in conn.execute(
            sa.select(outcome_scores).where(outcome_scores.c.evaluation_id == evaluation_id)
        )
    }
    lists = {
        (r.list_name, r.subject_id): (r.since, r.until)
        for r in conn.execute(
            sa.select(outcome_lists).where(outcome_lists.c.evaluation_id == evaluation_id)
        )
    }
    found = {
        (r.measure, r.subject_id, r.cause_subject_id): (r.kind, r.authority, r.since, r.reasons)
        for r in conn.execute(
            sa.select(decisions).where(decisions.c.evaluation_id == evaluation_id)
        )
    }
    return {"scores": scores, "lists": lists, "decisions": found}


def full_beside(engine: sa.Engine, policy_name: str) -> tuple[int, datetime]:
    """Evaluate the whole log now and store it as a non-current evaluation; its id and
    instant."""
    with snapshot(engine) as (conn, instant):
        stored = latest_policies(conn, [policy_name])[0]
        inputs = load_inputs(conn)
    outcome = evaluate(EngineData(inputs), stored.policy, instant, instant)
    with writing(engine) as conn:
        made = save_evaluation(
            conn,
            stored,
            outcome,
            instant,
            current=False,
            started_at=now(),
            finished_at=now(),
            engine="duckdb",
        )
    return made, instant


def compare(engine: sa.Engine, policy_name: str, refreshed: set[int] | None) -> list[str]:
    """How the current evaluation of `policy_name` differs from a full evaluation now: a list
    of differences (empty: equal). Percentiles of subjects outside `refreshed` are not compared
    (they may lag); with `refreshed` None every percentile is."""
    full_id, _ = full_beside(engine, policy_name)
    with engine.connect() as conn:
        current = latest_evaluation(conn, policy_name)
        got, want = stored_rows(conn, current.id), stored_rows(conn, full_id)
        full = conn.execute(
            sa.select(evaluations.c.distribution, evaluations.c.counts).where(
                evaluations.c.id == full_id
            )
        ).one()
    problems = []
    for name in ("lists", "decisions"):
        if got[name] != want[name]:
            extra = {k: v for k, v in got[name].items() if want[name].get(k) != v}
            missing = {k: v for k, v in want[name].items() if got[name].get(k) != v}
            problems.append(f"{name}: refreshed has {extra}, full has {missing}")
    scores_got, scores_want = got["scores"], want["scores"]
    if set(scores_got) != set(scores_want):
        problems.append(f"scored subjects differ: {set(scores_got) ^ set(scores_want)}")
    for sid in set(scores_got) & set(scores_want):
        a, b = scores_got[sid], scores_want[sid]
        if refreshed is not None and sid not in refreshed:
            a, b = a[:2] + a[3:], b[:2] + b[3:]
        if a != b:
            problems.append(f"subject {sid}: refreshed {a}, full {b}")
    if [list(p) for p in current.distribution] != list(full.distribution):
        problems.append(f"distribution: {current.distribution} against {full.distribution}")
    counts = {k: v for k, v in current.counts.items() if k != "records_counted"}
    if counts != {k: v for k, v in full.counts.items() if k != "records_counted"}:
        problems.append(f"counts: {current.counts} against {full.counts}")
    return problems
