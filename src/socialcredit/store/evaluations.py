"""Stored evaluations and their outcomes (scores, list memberships, decisions)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from socialcredit.engine.outcome import Outcome
from socialcredit.errors import InvalidInput, NotFound
from socialcredit.store.bulk import insert_columns, read_arrow
from socialcredit.store.policies import StoredPolicy, get_policy
from socialcredit.store.positions import LogPosition
from socialcredit.store.schema import (
    decisions,
    evaluations,
    identifiers,
    outcome_lists,
    outcome_scores,
    subject_instants,
)
from socialcredit.store.types import epoch_us


@dataclass(frozen=True)
class Evaluation:
    id: int
    policy_id: int
    policy_name: str
    policy_version: str
    policy_digest: str
    as_of: datetime
    known_at: datetime
    current: bool
    started_at: datetime
    finished_at: datetime
    engine: str
    counts: dict[str, int]
    timings: dict[str, float]
    distribution: list[tuple[int, int]]
    position: LogPosition | None = None  # what of the log its rows reflect (current runs)
    refreshed_at: datetime | None = None  # the instant of its last refresh (outcomes.refresh)
    # as_of was the instant of what was known (a current run without --as-of): refreshes then
    # evaluate at their own instant; otherwise they keep as_of and only known_at moves.
    follows_clock: bool = True


def _evaluation(row: Any) -> Evaluation:
    m = row._mapping
    return Evaluation(
        m["id"],
        m["policy_id"],
        m["policy_name"],
        m["policy_version"],
        m["policy_digest"],
        m["as_of"],
        m["known_at"],
        m["current"],
        m["started_at"],
        m["finished_at"],
        m["engine"],
        dict(m["counts"]),
        dict(m["timings"]),
        [(int(s), int(n)) for s, n in m["distribution"]],
        None if m["position"] is None else LogPosition.from_json(dict(m["position"])),
        m["refreshed_at"],
        m["follows_clock"] is not False,
    )


def save_evaluation(
    conn: sa.Connection,
    stored: StoredPolicy,
    outcome: Outcome,
    known_at: datetime,
    current: bool,
    started_at: datetime,
    finished_at: datetime,
    engine: str,
    position: LogPosition | None = None,
) -> int:
    """Store an evaluation with all its outcome rows, in the caller's transaction (`position`:
    where in the log a current run read it up to)."""
    evaluation_id = conn.execute(
        evaluations.insert()
        .values(
            policy_id=stored.id,
            policy_name=stored.name,
            policy_version=stored.version,
            policy_digest=stored.digest,
            as_of=outcome.as_of,
            known_at=known_at,
            current=current,
            started_at=started_at,
            finished_at=finished_at,
            engine=engine,
            counts=outcome.counts,
            timings={k: round(v, 4) for k, v in outcome.timings.items()},
            distribution=[list(pair) for pair in outcome.distribution],
            position=None if position is None else position.as_json(),
            follows_clock=outcome.as_of == known_at,
        )
        .returning(evaluations.c.id)
    ).scalar_one()
    insert_outcome_rows(conn, evaluation_id, outcome)
    return int(evaluation_id)


def insert_outcome_rows(conn: sa.Connection, evaluation_id: int, outcome: Outcome) -> None:
    """Insert an outcome's score, list and decision rows under `evaluation_id`."""
    categories = list(outcome.policy.categories)
    s = outcome.scores
    values = [s[name].to_pylist() for name in categories] if s.num_rows else []
    insert_columns(
        conn,
        outcome_scores,
        {
            "evaluation_id": [evaluation_id] * s.num_rows,
            "subject_id": s["sid"].to_pylist(),
            "score": s["score"].to_pylist(),
            "tier": s["tier"].to_pylist(),
            "percentile": s["percentile"].to_pylist(),
            "ceiling": s["ceiling"].to_pylist(),
            "categories": [
                dict(zip(categories, row, strict=True)) for row in zip(*values, strict=True)
            ]
            if values
            else [],
        },
    )
    lists = outcome.lists
    insert_columns(
        conn,
        outcome_lists,
        {
            "evaluation_id": [evaluation_id] * lists.num_rows,
            "list_name": lists["list"].to_pylist(),
            "subject_id": lists["sid"].to_pylist(),
            "since": lists["since_us"].to_pylist(),
            "until": lists["until_us"].to_pylist(),
        },
    )
    d = outcome.decisions
    insert_columns(
        conn,
        decisions,
        {
            "evaluation_id": [evaluation_id] * d.num_rows,
            "measure": d["measure"].to_pylist(),
            "kind": d["kind"].to_pylist(),
            "authority": d["authority"].to_pylist(),
            "subject_id": d["sid"].to_pylist(),
            "cause_subject_id": d["cause_sid"].to_pylist(),
            "since": d["since_us"].to_pylist(),
            "reasons": d["reasons"].to_pylist(),
        },
    )


def _latest_query(policy_name: str) -> sa.Select[Any]:
    return (
        sa.select(evaluations)
        .where(evaluations.c.policy_name == policy_name, evaluations.c.current)
        .order_by(evaluations.c.as_of.desc(), evaluations.c.id.desc())
        .limit(1)
    )


def latest_evaluation_id(conn: sa.Connection, policy_name: str) -> int | None:
    """The id of `latest_evaluation`, cheaply (services poll it)."""
    query = _latest_query(policy_name).with_only_columns(evaluations.c.id)
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def latest_evaluation(conn: sa.Connection, policy_name: str) -> Evaluation:
    """The evaluation that checks and exports serve: the current run (one that used everything
    the store knew) describing the latest instant.

    Historical replays (`--known-at` in the past) and "what was the score on 1 March?" runs are
    stored like any other, and reachable by id, but never replace it.
    """
    row = conn.execute(_latest_query(policy_name)).first()
    if row is None:
        get_policy(conn, policy_name)  # an unknown policy is named as such, with the known ones
        raise NotFound(
            f"policy {policy_name!r} has no current evaluation; "
            f"run `scs evaluate --policy {policy_name}`"
        )
    return _evaluation(row)


def get_evaluation(conn: sa.Connection, evaluation_id: int) -> Evaluation:
    row = conn.execute(sa.select(evaluations).where(evaluations.c.id == evaluation_id)).first()
    if row is None:
        raise NotFound(f"no evaluation {evaluation_id}")
    return _evaluation(row)


def evaluation_for(
    conn: sa.Connection, policy: str, evaluation_id: int | None = None
) -> Evaluation:
    if evaluation_id is None:
        return latest_evaluation(conn, policy)
    found = get_evaluation(conn, evaluation_id)
    if found.policy_name != policy:
        get_policy(conn, policy)
        raise InvalidInput(
            "evaluation",
            f"evaluation {evaluation_id} is of policy {found.policy_name}, not {policy}",
        )
    return found


def evaluations_of(conn: sa.Connection, policy_name: str) -> list[Evaluation]:
    """Every stored evaluation of a policy, by as_of (then id)."""
    query = (
        sa.select(evaluations)
        .where(evaluations.c.policy_name == policy_name)
        .order_by(evaluations.c.as_of, evaluations.c.id)
    )
    rows = list(conn.execute(query))
    if not rows:
        raise NotFound(f"policy {policy_name!r} has no stored evaluation")
    return [_evaluation(r) for r in rows]


def list_evaluations(conn: sa.Connection, policy_name: str | None = None) -> list[Evaluation]:
    query = sa.select(evaluations).order_by(evaluations.c.id)
    if policy_name:
        query = query.where(evaluations.c.policy_name == policy_name)
    return [_evaluation(r) for r in conn.execute(query)]


_FIRST = identifiers.alias("first_identifier")


def score_rows(conn: sa.Connection, evaluation_id: int) -> list[Any]:
    query = (
        sa.select(
            _FIRST.c.identifier,
            outcome_scores.c.score,
            outcome_scores.c.tier,
            outcome_scores.c.percentile,
            outcome_scores.c.categories,
            outcome_scores.c.subject_id,
        )
        .join(
            _FIRST,
            sa.and_(_FIRST.c.subject_id == outcome_scores.c.subject_id, _FIRST.c.ordinal == 0),
        )
        .where(outcome_scores.c.evaluation_id == evaluation_id)
        .order_by(outcome_scores.c.subject_id)
    )
    return list(conn.execute(query))


def scores_export(conn: sa.Connection, evaluation_id: int, categories: list[str]) -> pa.Table:
    rows = score_rows(conn, evaluation_id)
    columns: dict[str, Any] = {
        "subject": pa.array([r.identifier for r in rows], pa.string()),
        "score": pa.array([r.score for r in rows], pa.int64()),
        "tier": pa.array([r.tier for r in rows], pa.string()),
        "percentile": pa.array([r.percentile for r in rows], pa.float64()),
    }
    for name in categories:
        columns[name] = pa.array([_categories(r.categories)[name] for r in rows], pa.float64())
    return pa.table(columns)


def _categories(value: Any) -> dict[str, float]:
    return json.loads(value) if isinstance(value, str) else dict(value)


DECISIONS_EXPORT = pa.schema(
    [
        ("measure", pa.string()),
        ("subject", pa.string()),
        ("cause_subject", pa.string()),
        ("kind", pa.string()),
        ("since", pa.timestamp("us", tz="UTC")),
    ]
)


def decisions_export(
    conn: sa.Connection, evaluation_id: int, measure: str | None = None
) -> pa.Table:
    target, cause = identifiers.alias("target"), identifiers.alias("cause")
    query = (
        sa.select(
            decisions.c.measure,
            target.c.identifier,
            cause.c.identifier,
            decisions.c.kind,
            epoch_us(decisions.c.since, conn.dialect),
        )
        .join(target, sa.and_(target.c.subject_id == decisions.c.subject_id, target.c.ordinal == 0))
        .join(
            cause, sa.and_(cause.c.subject_id == decisions.c.cause_subject_id, cause.c.ordinal == 0)
        )
        .where(decisions.c.evaluation_id == evaluation_id)
        .order_by(decisions.c.measure, decisions.c.subject_id, decisions.c.cause_subject_id)
    )
    if measure:
        query = query.where(decisions.c.measure == measure)
    schema = DECISIONS_EXPORT.set(4, pa.field("since", pa.int64()))
    table = read_arrow(conn, query, schema)
    return table.set_column(4, "since", table["since"].cast(pa.timestamp("us", tz="UTC")))


@dataclass(frozen=True)
class SubjectOutcome:
    score: Any | None  # the outcome_scores row
    lists: list[Any]
    decisions: list[Any]


def subject_outcome(conn: sa.Connection, evaluation_id: int, subject_id: int) -> SubjectOutcome:
    score = conn.execute(
        sa.select(outcome_scores).where(
            outcome_scores.c.evaluation_id == evaluation_id,
            outcome_scores.c.subject_id == subject_id,
        )
    ).first()
    lists = list(
        conn.execute(
            sa.select(outcome_lists)
            .where(
                outcome_lists.c.evaluation_id == evaluation_id,
                outcome_lists.c.subject_id == subject_id,
            )
            .order_by(outcome_lists.c.list_name)
        )
    )
    found = list(
        conn.execute(
            sa.select(decisions)
            .where(
                decisions.c.evaluation_id == evaluation_id,
                decisions.c.subject_id == subject_id,
            )
            .order_by(decisions.c.measure, decisions.c.cause_subject_id)
        )
    )
    return SubjectOutcome(score, lists, found)


def subject_instants_of(
    conn: sa.Connection, evaluation: Evaluation, subject_ids: Sequence[int]
) -> dict[int, tuple[datetime, datetime]]:
    """The (as_of, known_at) that each subject's rows in `evaluation` describe: the instant of
    the refresh that last rewrote them, else the evaluation's own (docs/realtime.md)."""
    found = dict.fromkeys(subject_ids, (evaluation.as_of, evaluation.known_at))
    if evaluation.refreshed_at is None or not found:
        return found
    ids = sorted(found)
    for i in range(0, len(ids), 5_000):
        rows = conn.execute(
            sa.select(
                subject_instants.c.subject_id, subject_instants.c.as_of, subject_instants.c.known_at
            ).where(
                subject_instants.c.evaluation_id == evaluation.id,
                subject_instants.c.subject_id.in_(ids[i : i + 5_000]),
            )
        )
        for r in rows:
            found[r.subject_id] = (r.as_of, r.known_at)
    return found


def subject_instant(
    conn: sa.Connection, evaluation: Evaluation, subject_id: int
) -> tuple[datetime, datetime]:
    """`subject_instants_of` for one subject."""
    return subject_instants_of(conn, evaluation, [subject_id])[subject_id]


def newest_instant(evaluation: Evaluation) -> tuple[datetime, datetime]:
    """The newest (as_of, known_at) any of the evaluation's rows describe: what a question about
    many subjects at once (the records behind a public list) reads the log at."""
    if evaluation.refreshed_at is None:
        return evaluation.as_of, evaluation.known_at
    at = evaluation.refreshed_at
    return (at if evaluation.follows_clock else evaluation.as_of), at
