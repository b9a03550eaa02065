"""Reading outcomes back: explanations, gate checks and exports.

An explanation is recomputed with `evaluate()` for the one subject, at the stored evaluation's
as_of and known_at, over the records it depends on, so it shows exactly the numbers that were
stored, record by record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from socialcredit.engine import EngineData, Explanation, dependencies, evaluate, explain
from socialcredit.errors import InvalidInput, NotFound
from socialcredit.store.evaluations import (
    Evaluation,
    decisions_export,
    get_evaluation,
    latest_evaluation,
    scores_export,
    subject_outcome,
)
from socialcredit.store.policies import StoredPolicy, get_policy, latest_policies
from socialcredit.store.registry import Subject, find_subject, first_identifiers
from socialcredit.store.snapshot import load_records, load_registry
from socialcredit.timeutil import format_instant


@dataclass(frozen=True)
class SubjectReport:
    subject: Subject
    evaluation: Evaluation
    stored_policy: StoredPolicy
    explanation: Explanation
    names: dict[int, str]  # subject id -> first identifier, for every subject mentioned
    reproduced: bool  # the recomputed score equals the stored one


def evaluation_for(
    conn: sa.Connection, policy: str, evaluation_id: int | None = None
) -> Evaluation:
    if evaluation_id is None:
        return latest_evaluation(conn, policy)
    found = get_evaluation(conn, evaluation_id)
    if found.policy_name != policy:
        raise InvalidInput(
            "evaluation",
            f"evaluation {evaluation_id} is of policy {found.policy_name}, not {policy}",
        )
    return found


def export_scores(conn: sa.Connection, policy: str, evaluation_id: int | None = None) -> pa.Table:
    """subject, score, tier, percentile, then one column per category."""
    found = evaluation_for(conn, policy, evaluation_id)
    document = get_policy(conn, policy, found.policy_version).policy
    if not document.scores:
        raise InvalidInput(
            "policy",
            f"{policy} has model: none and computes no score; its "
            "lists and measures are in `scs decisions export`",
        )
    return scores_export(conn, found.id, list(document.categories))


def export_decisions(
    conn: sa.Connection,
    policy: str,
    evaluation_id: int | None = None,
    measure: str | None = None,
) -> pa.Table:
    """measure, subject, cause_subject, kind, since: every decision of the evaluation."""
    found = evaluation_for(conn, policy, evaluation_id)
    document = get_policy(conn, policy, found.policy_version).policy
    if measure is not None and document.measure(measure) is None:
        names = ", ".join(m.name for m in document.measures) or "none"
        raise NotFound(
            f"policy {policy} {found.policy_version} has no measure {measure!r} (measures: {names})"
        )
    return decisions_export(conn, found.id, measure)


def explain_subject(
    conn: sa.Connection, identifier: str, policy: str, evaluation_id: int | None = None
) -> SubjectReport:
    subject = find_subject(conn, identifier)
    evaluation = evaluation_for(conn, policy, evaluation_id)
    stored = get_policy(conn, evaluation.policy_name, evaluation.policy_version)
    document = stored.policy
    data = EngineData(load_registry(conn))  # the registry first, to find what is needed
    needed = dependencies(data, document, [subject.id], evaluation.as_of, evaluation.known_at)
    data.replace_records(load_records(conn, needed.tolist()))
    outcome = evaluate(
        data,
        document,
        evaluation.as_of,
        evaluation.known_at,
        subjects=[subject.id],
        distribution=evaluation.distribution,
        explain=True,
    )
    explanation = explain(outcome, subject.id)
    saved = subject_outcome(conn, evaluation.id, subject.id)
    reproduced = (saved.score.score if saved.score else None) == explanation.score
    mentioned = {subject.id} | {int(d["cause_sid"]) for d in explanation.decisions}
    mentioned |= {i.neighbour for i in explanation.influences}
    return SubjectReport(
        subject, evaluation, stored, explanation, first_identifiers(conn, mentioned), reproduced
    )


def check_measure(
    conn: sa.Connection,
    measure: str,
    identifier: str,
    policy: str | None = None,
    evaluation_id: int | None = None,
) -> dict[str, Any]:
    """The gate check: does `measure` apply to the subject? Only what the gate needs.

    Reads the latest evaluation of the policy that declares the measure (or `evaluation_id`).
    """
    stored = _policy_with_measure(conn, measure, policy)
    subject = find_subject(conn, identifier)
    evaluation = evaluation_for(conn, stored.name, evaluation_id)
    found = [
        d
        for d in subject_outcome(conn, evaluation.id, subject.id).decisions
        if d.measure == measure
    ]
    answer: dict[str, Any] = {
        "measure": measure,
        "subject": subject.identifier,
        "applies": bool(found),
        "reasons": [],
        "since": None,
        "cause_subject": None,
        "policy": f"{stored.name} {evaluation.policy_version}",
        "as_of": format_instant(evaluation.as_of),
    }
    if not found:
        return answer
    # One decision answers: the subject's own if there is one, else the earliest collateral
    # one. Its reasons, since and cause are reported together, never mixed with another's.
    own = [d for d in found if d.cause_subject_id == subject.id]
    chosen = own[0] if own else min(found, key=lambda d: (d.since, d.cause_subject_id))
    answer["reasons"] = list(chosen.reasons)
    answer["since"] = format_instant(chosen.since)
    if not own:
        answer["cause_subject"] = first_identifiers(conn, [chosen.cause_subject_id])[
            chosen.cause_subject_id
        ]
    return answer


def _policy_with_measure(conn: sa.Connection, measure: str, policy: str | None) -> StoredPolicy:
    if policy is not None:
        stored = get_policy(conn, policy)
        if stored.policy.measure(measure) is None:
            names = ", ".join(m.name for m in stored.policy.measures) or "none"
            raise NotFound(f"policy {policy} has no measure {measure!r} (measures: {names})")
        return stored
    having = [p for p in latest_policies(conn) if p.policy.measure(measure) is not None]
    if not having:
        raise NotFound(f"no policy in force has a measure {measure!r}")
    if len(having) > 1:
        names = ", ".join(p.name for p in having)
        raise InvalidInput(
            "policy",
            f"measure {measure!r} is in several policies ({names}); choose one with --policy",
        )
    return having[0]
