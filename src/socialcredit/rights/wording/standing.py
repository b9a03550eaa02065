"""The words beside the machine fields of the documents that the API, the pages and the CLI
share: a subject's standing under each policy (`rights.subject_data.subject_scores`), its
records, and the public lists. Each function adds fields in the language in use and never
changes a machine field (`reasons` stay codes, `tier` stays the tier's name)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from socialcredit.i18n import text
from socialcredit.policy.schema import Policy
from socialcredit.rights.wording.causes import list_causes
from socialcredit.rights.wording.record_types import type_text, value_text
from socialcredit.rights.wording.sentences import (
    Facts,
    causes_document,
    list_label,
    list_why,
    percentile_text,
    reason_text,
    tier_text,
    words,
)
from socialcredit.store.evaluations import evaluation_for, subject_instant
from socialcredit.store.policies import get_policy
from socialcredit.store.schema import sources
from socialcredit.timeutil import parse_instant


def measure_label(policy: Policy | None, name: str) -> str:
    measure = policy.measure(name) if policy else None
    label = getattr(measure, "label", None) if measure else None
    return text(label) if label else words(name)


def describe_measure(
    decision: dict[str, Any], policy: Policy | None, facts: Facts, other: str | None = None
) -> None:
    """Add `label` and `reason_texts` (one sentence per code of `reasons`, in order); `other`
    is the identifier of the subject whose condition applies the measure, when it is not the
    subject that `facts` describe (a parent's listing restricts a child)."""
    mine = Facts(facts.score, facts.tier, facts.lists, facts.causes, other)
    decision["label"] = measure_label(policy, decision["measure"])
    decision["reason_texts"] = [reason_text(c, policy, mine) for c in decision["reasons"]]


def describe_standing(conn: sa.Connection, subject_id: int, standing: list[dict[str, Any]]) -> None:
    """Add the words to each policy's standing of `subject_scores`: `tier_text`,
    `percentile_text`, each list entry's `label`, `why` and `causes`, each measure's `label`
    and `reason_texts`."""
    for row in standing:
        policy = get_policy(conn, row["policy"], row["policy_version"]).policy
        evaluation = evaluation_for(conn, row["policy"], row["evaluation"])
        causes: dict[str, list[Any]] = {}
        for entry in row["lists"]:
            found = list_causes(
                conn,
                policy,
                entry["list"],
                {subject_id: parse_instant(entry["since"])},
                *subject_instant(conn, evaluation, subject_id),
            )
            causes[entry["list"]] = found[subject_id]
            entry["label"] = list_label(policy, entry["list"])
            entry["why"] = list_why(entry["label"], entry["since"], causes[entry["list"]])
            entry["causes"] = causes_document(causes[entry["list"]])
        row["tier_text"] = tier_text(policy, row["tier"])
        row["percentile_text"] = percentile_text(row["percentile"])
        facts = Facts(
            row["score"], row["tier"], {li["list"]: li["since"] for li in row["lists"]}, causes
        )
        for decision in row["measures"]:
            describe_measure(decision, policy, facts, decision.get("cause_subject"))


def source_names(conn: sa.Connection, ids: set[str] | None = None) -> dict[str, str]:
    """Each registered source's name by its id."""
    query = sa.select(sources.c.id, sources.c.name)
    if ids is not None:
        query = query.where(sources.c.id.in_(sorted(ids)))
    return {r.id: r.name for r in conn.execute(query)}


def describe_records(conn: sa.Connection, page: dict[str, Any]) -> None:
    """Add `source_name`, `type_text` and `value_text` to each record of `subject_records`."""
    names = source_names(conn, {r["source"] for r in page["records"]})
    for record in page["records"]:
        record["source_name"] = names.get(record["source"], record["source"])
        record["type_text"] = type_text(record["type"])
        record["value_text"] = value_text(record["type"], record["value"])
