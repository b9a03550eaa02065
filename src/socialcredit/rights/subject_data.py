"""What the store holds about one subject: its registry entry, its scores under every policy,
its score over time, and the records that sources sent about it.

The API serves these to the subject itself (`/v1/me`) and to operators; the web pages render
the same documents.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from socialcredit.errors import NotFound
from socialcredit.rights.wording.standing import describe_records, describe_standing
from socialcredit.store.evaluations import (
    evaluations_of,
    latest_evaluation,
    subject_outcome,
)
from socialcredit.store.policies import latest_policies
from socialcredit.store.records import current_status
from socialcredit.store.registry import Subject, first_identifiers
from socialcredit.store.schema import records, relationships
from socialcredit.timeutil import format_instant

MAX_PAGE = 500


def subject_document(subject: Subject) -> dict[str, Any]:
    return {
        "identifier": subject.identifier,
        "identifiers": list(subject.identifiers),
        "kind": subject.kind,
        "name": subject.name,
        "region": subject.region,
        "born": subject.born,
        "founded": subject.founded,
    }


def subject_scores(
    conn: sa.Connection, subject: Subject, policy: str | None = None, standing_first: bool = False
) -> list[dict[str, Any]]:
    """The subject's standing under each policy in force (or one), from its current evaluation;
    by policy name, or with `standing_first` the policies that score the subject first, then
    those under which it is listed or restricted, then the rest (how the pages show them)."""
    stored = latest_policies(conn, [policy] if policy else None)
    out = []
    for p in stored:
        try:
            evaluation = latest_evaluation(conn, p.name)
        except NotFound:
            if policy:
                raise
            continue
        found = subject_outcome(conn, evaluation.id, subject.id)
        score = found.score
        names = first_identifiers(conn, {d.cause_subject_id for d in found.decisions})
        out.append(
            {
                "policy": p.name,
                "policy_version": evaluation.policy_version,
                "title": p.title,
                "evaluation": evaluation.id,
                "as_of": format_instant(evaluation.as_of),
                "scored": score is not None and score.score is not None,
                "score": score.score if score else None,
                "tier": score.tier if score else None,
                "percentile": score.percentile if score else None,
                "categories": dict(score.categories) if score else {},
                "scale": (
                    {"min": p.policy.scale.min, "max": p.policy.scale.max}
                    if p.policy.scale
                    else None
                ),
                "lists": [
                    {
                        "list": r.list_name,
                        "since": format_instant(r.since),
                        "until": format_instant(r.until),
                    }
                    for r in found.lists
                ],
                "measures": [
                    {
                        "measure": d.measure,
                        "kind": d.kind,
                        "authority": d.authority,
                        "since": format_instant(d.since),
                        "reasons": list(d.reasons),
                        "cause_subject": (
                            names.get(d.cause_subject_id)
                            if d.cause_subject_id != subject.id
                            else None
                        ),
                    }
                    for d in found.decisions
                ],
            }
        )
    if standing_first:
        out.sort(key=lambda s: (s["score"] is None, not (s["lists"] or s["measures"]), s["policy"]))
    describe_standing(conn, subject.id, out)  # the words beside the codes
    return out


def subject_history(conn: sa.Connection, subject: Subject, policy: str) -> list[dict[str, Any]]:
    """The subject's score in every stored evaluation of `policy`, by as_of."""
    out = []
    for evaluation in evaluations_of(conn, policy):
        score = subject_outcome(conn, evaluation.id, subject.id).score
        out.append(
            {
                "evaluation": evaluation.id,
                "policy_version": evaluation.policy_version,
                "as_of": format_instant(evaluation.as_of),
                "known_at": format_instant(evaluation.known_at),
                "current": evaluation.current,
                "score": score.score if score else None,
                "tier": score.tier if score else None,
            }
        )
    return out


def subject_records(
    conn: sa.Connection, subject: Subject, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """The records sources sent about the subject, newest first, with their status."""
    limit = max(1, min(limit, MAX_PAGE))
    total = conn.execute(
        sa.select(sa.func.count()).where(records.c.subject_id == subject.id)
    ).scalar_one()
    rows = list(
        conn.execute(
            sa.select(records)
            .where(records.c.subject_id == subject.id)
            .order_by(records.c.occurred_at.desc(), records.c.id.desc())
            .limit(limit)
            .offset(max(0, offset))
        )
    )
    status = current_status(conn, [r.id for r in rows])
    page: dict[str, Any] = {
        "total": int(total),
        "limit": limit,
        "offset": max(0, offset),
        "records": [
            {
                "source": r.source_id,
                "record_id": r.record_id,
                "type": r.type,
                "occurred_at": format_instant(r.occurred_at),
                "received_at": format_instant(r.received_at),
                "value": r.value,
                "attrs": r.attrs,
                "supersedes": r.supersedes,
                "status": status.get(r.id, "active"),
            }
            for r in rows
        ],
    }
    describe_records(conn, page)  # source names, record types in words, values with units
    return page


def subject_relationships(conn: sa.Connection, subject: Subject) -> list[dict[str, Any]]:
    """The subject's relationships (latest version of each edge), either direction."""
    rows = list(
        conn.execute(
            sa.select(relationships)
            .where(
                sa.or_(relationships.c.from_id == subject.id, relationships.c.to_id == subject.id)
            )
            .order_by(relationships.c.id)
        )
    )
    latest: dict[tuple[int, int, str], Any] = {}
    for r in rows:
        latest[(r.from_id, r.to_id, r.kind)] = r
    names = first_identifiers(conn, {r.from_id for r in rows} | {r.to_id for r in rows})
    return [
        {
            "from": names.get(r.from_id),
            "to": names.get(r.to_id),
            "kind": r.kind,
            "weight": r.weight,
            "valid_from": format_instant(r.valid_from) if r.valid_from else None,
            "valid_to": format_instant(r.valid_to) if r.valid_to else None,
        }
        for r in latest.values()
    ]
