"""Public lists: only the lists a policy declares `public: true`, only the public fields.

A published entry carries the subject's name, kind and region, the list, since and until, and an
identifier: an organization's USCC in full (it is printed on its business licence), a person's
identity number masked to its region and last four characters, as court lists publish them. It
also says why, as court lists do: the source, the kind and the date of each record that put the
subject on the list (never the record's id or value). Nothing else about the subject (no score,
no other record) is published. The words (`label`, `region_name`, `why`, `type_text`) are in the
language in use; the machine fields keep their codes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from socialcredit.errors import InvalidInput, NotFound
from socialcredit.i18n import text
from socialcredit.rights.wording import (
    causes_document,
    list_causes,
    list_label,
    list_why,
    region_name,
)
from socialcredit.store.evaluations import Evaluation, latest_evaluation, newest_instant
from socialcredit.store.policies import StoredPolicy, get_policy, latest_policies
from socialcredit.store.schema import identifiers, outcome_lists, subjects
from socialcredit.timeutil import format_instant

MAX_PAGE = 200


def mask(identifier: str, kind: str) -> str:
    """A person's identifier masked for publication; other subjects' in full."""
    if kind != "person":
        return identifier
    scheme, _, value = identifier.partition(":")
    if len(value) <= 10:
        return f"{scheme}:{'*' * len(value)}"
    return f"{scheme}:{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def public_lists(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every public list of every policy in force, with its size in the current evaluation."""
    out = []
    for stored in latest_policies(conn):
        for listed in stored.policy.lists:
            if not listed.public:
                continue
            try:
                evaluation = latest_evaluation(conn, stored.name)
            except NotFound:
                size = None
            else:
                size = (
                    None
                    if not _evaluated_public(conn, evaluation, listed.name)
                    else conn.execute(
                        sa.select(sa.func.count()).where(
                            outcome_lists.c.evaluation_id == evaluation.id,
                            outcome_lists.c.list_name == listed.name,
                        )
                    ).scalar_one()
                )
            out.append(
                {
                    "list": listed.name,
                    "kind": listed.kind,
                    "policy": stored.name,
                    "title": text(stored.title),
                    "label": list_label(stored.policy, listed.name),
                    "description": text(listed.description) if listed.description else None,
                    "entries": size,
                }
            )
    return out


def _size(conn: sa.Connection, evaluation: Evaluation, name: str) -> int | None:
    if not _evaluated_public(conn, evaluation, name):
        return None
    count = sa.select(sa.func.count()).where(
        outcome_lists.c.evaluation_id == evaluation.id, outcome_lists.c.list_name == name
    )
    return int(conn.execute(count).scalar_one())


def _evaluated_public(conn: sa.Connection, evaluation: Evaluation, name: str) -> bool:
    """Whether the policy version that was evaluated declared the list public: a new version
    that makes a list public does not publish what an older version computed."""
    evaluated = get_policy(conn, evaluation.policy_name, evaluation.policy_version).policy
    return any(li.name == name and li.public for li in evaluated.lists)


def _public_policy(conn: sa.Connection, name: str, policy: str | None) -> StoredPolicy:
    having = [
        p
        for p in latest_policies(conn, [policy] if policy else None)
        if any(li.name == name and li.public for li in p.policy.lists)
    ]
    if not having:
        raise NotFound(f"no policy in force publishes a list {name!r}")
    if len(having) > 1:
        names = ", ".join(p.name for p in having)
        raise InvalidInput("policy", f"several policies publish a list {name!r} ({names})")
    return having[0]


def public_list(
    conn: sa.Connection, name: str, policy: str | None = None, page: int = 1, size: int = 50
) -> dict[str, Any]:
    """One page of a public list from the policy's current evaluation, by since then name."""
    if page < 1:
        raise InvalidInput("page", "pages count from 1")
    if not 1 <= size <= MAX_PAGE:
        raise InvalidInput("size", f"must be between 1 and {MAX_PAGE}")
    stored = _public_policy(conn, name, policy)
    evaluation = latest_evaluation(conn, stored.name)
    if not _evaluated_public(conn, evaluation, name):
        raise NotFound(
            f"{stored.name} {stored.version} publishes {name!r}, but its current evaluation is "
            f"of version {evaluation.policy_version}, which does not; it is published from "
            "the first evaluation of a version that does"
        )
    where = sa.and_(
        outcome_lists.c.evaluation_id == evaluation.id, outcome_lists.c.list_name == name
    )
    total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
    rows = conn.execute(
        sa.select(
            subjects.c.id,
            subjects.c.name,
            subjects.c.kind,
            subjects.c.region,
            identifiers.c.identifier,
            outcome_lists.c.since,
            outcome_lists.c.until,
        )
        .join(subjects, subjects.c.id == outcome_lists.c.subject_id)
        .join(
            identifiers,
            sa.and_(identifiers.c.subject_id == subjects.c.id, identifiers.c.ordinal == 0),
        )
        .where(where)
        .order_by(outcome_lists.c.since.desc(), subjects.c.name, subjects.c.id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    evaluated = get_policy(conn, stored.name, evaluation.policy_version).policy
    causes = list_causes(
        conn,
        evaluated,
        name,
        {r.id: r.since for r in rows},
        *newest_instant(evaluation),  # refreshed rows describe later instants than the run
    )
    label = list_label(evaluated, name)
    return {
        "list": name,
        "label": label,
        "policy": stored.name,
        "policy_version": evaluation.policy_version,
        "as_of": format_instant(evaluation.as_of),
        "page": page,
        "size": size,
        "total": int(total),
        "entries": [
            {
                "name": r.name,
                "kind": r.kind,
                "region": r.region,
                "region_name": region_name(r.region),
                "identifier": mask(r.identifier, r.kind),
                "since": format_instant(r.since),
                "until": format_instant(r.until),
                "why": list_why(label, r.since, causes[r.id]),
                "causes": causes_document(causes[r.id], public=True),
            }
            for r in rows
        ],
    }
