"""Reading outcomes back: explanations and exports (gate checks are in `gate`).

An explanation is recomputed with `evaluate()` for the one subject, at the stored evaluation's
as_of and known_at, over the records it depends on, so it shows exactly the numbers that were
stored, record by record.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from socialcredit.engine import EngineData, Explanation, dependencies, evaluate, explain
from socialcredit.errors import InvalidInput, NotFound
from socialcredit.i18n import text
from socialcredit.rights.subject_data import subject_history, subject_relationships, subject_scores
from socialcredit.rights.wording import (
    Cause,
    Facts,
    category_text,
    causes_document,
    list_label,
    list_why,
    percentile_text,
    region_name,
    tier_text,
    type_text,
    value_text,
)
from socialcredit.rights.wording.causes import list_causes
from socialcredit.rights.wording.standing import describe_measure, source_names
from socialcredit.store.evaluations import (
    Evaluation,
    decisions_export,
    evaluation_for,
    scores_export,
    subject_instant,
    subject_outcome,
)
from socialcredit.store.policies import StoredPolicy, get_policy
from socialcredit.store.registry import Subject, find_subject, first_identifiers
from socialcredit.store.schema import record_status, records
from socialcredit.store.snapshot import load_records, load_registry
from socialcredit.timeutil import format_instant, from_us


@dataclass(frozen=True)
class SubjectReport:
    subject: Subject
    evaluation: Evaluation
    stored_policy: StoredPolicy
    explanation: Explanation
    names: dict[int, str]  # subject id -> first identifier, for every subject mentioned
    reproduced: bool  # the recomputed score equals the stored one
    # (source, record_id) of the counting records that were under objection at known_at (a
    # policy with disputes.while_disputed: count counts them, flagged)
    disputed: frozenset[tuple[str, str]] = frozenset()
    # the registered name of each source the report mentions, by id
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    # the records that put the subject on each of its lists (rights.wording.causes)
    causes: dict[str, list[Cause]] = dataclasses.field(default_factory=dict)


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
    evaluation = evaluation_for(conn, policy, evaluation_id)  # an unknown policy first
    subject = find_subject(conn, identifier)
    # The instant this subject's rows describe: a real-time refresh may have rewritten them
    # after the evaluation's run (store.evaluations.subject_instants_of).
    as_of, known_at = subject_instant(conn, evaluation, subject.id)
    evaluation = dataclasses.replace(evaluation, as_of=as_of, known_at=known_at)
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
    counted = [r for f in explanation.factors for r in f.records]
    disputed = disputed_records(
        conn, subject.id, evaluation.known_at, {(r.source, r.record_id) for r in counted}
    )
    causes = {
        str(listed["list"]): list_causes(
            conn,
            document,
            str(listed["list"]),
            {subject.id: from_us(int(listed["since_us"]))},
            evaluation.as_of,
            evaluation.known_at,
        )[subject.id]
        for listed in explanation.lists
    }
    named = {r.source for r in counted} | {c.source for found in causes.values() for c in found}
    return SubjectReport(
        subject,
        evaluation,
        stored,
        explanation,
        first_identifiers(conn, mentioned),
        reproduced,
        disputed,
        source_names(conn, named),
        causes,
    )


def disputed_records(
    conn: sa.Connection, subject_id: int, known_at: datetime, wanted: set[tuple[str, str]]
) -> frozenset[tuple[str, str]]:
    """Which of the subject's records `wanted` were disputed as of `known_at` (their last
    status change by then)."""
    if not wanted:
        return frozenset()
    rows = conn.execute(
        sa.select(records.c.source_id, records.c.record_id, record_status.c.status)
        .join(record_status, record_status.c.record_pk == records.c.id)
        .where(records.c.subject_id == subject_id, record_status.c.changed_at <= known_at)
        .order_by(record_status.c.id)
    )
    last: dict[tuple[str, str], str] = {}
    for r in rows:
        last[(r.source_id, r.record_id)] = r.status
    return frozenset(k for k, status in last.items() if status == "disputed" and k in wanted)


def report_document(report: SubjectReport) -> dict[str, Any]:
    """The explanation as a JSON-ready document (`scs explain --json`, the API, the web).

    The machine fields keep their codes; the words beside them are in the language in use:
    `tier_text`, `percentile_text`, `region_name`, each list entry's `label`, `why` and
    `causes`, each decision's `label` and `reason_texts`, each record's `source_name`,
    `type_text` and `value_text`."""
    policy = report.stored_policy.policy
    e = dataclasses.asdict(report.explanation)
    e["subject"] = report.subject.identifier
    e["region_name"] = region_name(report.subject.region)
    e["tier_text"] = tier_text(policy, e["tier"])
    e["percentile_text"] = percentile_text(e["percentile"])
    e["evaluation"] = report.evaluation.id
    e["as_of"] = format_instant(report.evaluation.as_of)
    e["policy_version"] = report.evaluation.policy_version
    e["reproduced"] = report.reproduced
    for listed in e["lists"]:
        listed["since"] = format_instant(from_us(int(listed.pop("since_us"))))
        listed["until"] = format_instant(from_us(int(listed.pop("until_us"))))
        listed.pop("sid")
        causes = report.causes.get(listed["list"], [])
        listed["label"] = list_label(policy, listed["list"])
        listed["why"] = list_why(listed["label"], listed["since"], causes)
        listed["causes"] = causes_document(causes)
    facts = Facts(
        e["score"],
        e["tier"],
        {li["list"]: li["since"] for li in e["lists"]},
        report.causes,
        None,
    )
    for decision in e["decisions"]:
        cause_sid = int(decision.pop("cause_sid"))
        decision["cause_subject"] = report.names.get(cause_sid)
        decision["since"] = format_instant(from_us(int(decision.pop("since_us"))))
        decision.pop("sid")
        other = decision["cause_subject"] if cause_sid != report.subject.id else None
        describe_measure(decision, policy, facts, other)
    for influence in e["influences"]:
        influence["neighbour"] = report.names.get(influence["neighbour"])
    # The policy's texts in the language in use (the request's, the command's).
    for category in e["categories"]:
        category["label"] = text(category["label"])
    e["ceiling_reasons"] = [text(reason) for reason in e["ceiling_reasons"]]
    for factor in (*e["lowering"], *e["factors"]):
        factor["reason"] = text(factor["reason"])
        factor["category_label"] = category_text(policy, factor["category"])
        for record in factor["records"]:
            record["occurred_at"] = format_instant(record["occurred_at"])
            record["disputed"] = (record["source"], record["record_id"]) in report.disputed
            record["source_name"] = report.sources.get(record["source"], record["source"])
            record["type_text"] = type_text(record["type"], factor["reason"])
            record["value_text"] = value_text(record["type"], record["value"])
    disputes = report.stored_policy.policy.disputes
    e["disputes"] = {
        "deadline_days": disputes.deadline,
        "while_disputed": disputes.while_disputed,
    }
    e.pop("sid")
    return e


def report_view(conn: sa.Connection, subject: Subject, policy: str | None) -> dict[str, Any]:
    """Everything a subject's report shows (the pages' and `/v1/.../report`'s one source): its
    standing under each policy, the explanation under `policy` (by default the first that scores
    it), its relationships and its score history."""
    standing = subject_scores(conn, subject, standing_first=True)
    if not standing:
        raise NotFound("no policy in force has a current evaluation")
    if policy is None:
        policy = standing[0]["policy"]
    chosen = next((s for s in standing if s["policy"] == policy), None)
    if chosen is None:
        raise NotFound(f"policy {policy!r} is not in force or has no current evaluation")
    explained = report_document(explain_subject(conn, subject.identifier, policy))
    document = get_policy(conn, policy, explained["policy_version"]).policy
    relationships = subject_relationships(conn, subject)
    kinds: dict[str, list[str]] = {}
    for r in relationships:
        other = r["to"] if r["from"] == subject.identifier else r["from"]
        kinds.setdefault(other, []).append(r["kind"])
    history = subject_history(conn, subject, policy) if explained["score"] is not None else []
    lowering = explained["lowering"]
    return {
        "title": f"{subject.name} · {policy}",
        "subject": subject,
        "standing": standing,
        "chosen": chosen,
        "policy": document,
        "report": explained,
        "lowering": lowering,
        "raising": [f for f in explained["factors"] if f["effect"] > 0],
        "also_lowering": [f for f in explained["factors"] if f["effect"] < 0 and f not in lowering],
        "relationships": relationships,
        "relationship_kinds": kinds,
        "history": history,
    }
