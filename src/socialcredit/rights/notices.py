"""Notices: what changed for a subject between two current evaluations of a policy.

After each current evaluation (`outcomes.runs`), its outcome is compared, subject by subject,
with the evaluation that served before it (the policy's latest current one). Each change becomes
a notice in the style of an adverse-action notice (FCRA §615): the measure, list or tier, the
reasons, the top factors, since when, and for adverse ones how to object or appeal and by when.

    measure_applied / measure_lifted   a decision row (measure, subject, cause) appeared / went
    list_entered / list_exited         a list membership (list, subject) appeared / went
    tier_changed                       the subject's tier differs from its previous one

The first current evaluation of a policy is compared with nothing: every measure and list entry
in it is new, tiers are not (a first tier is not a change). A current run that describes an
earlier instant than the one serving is a look back, not a change, and makes no notice.

Notices are stored with the evaluation, in its transaction, each with one outbox row that
`rights.delivery` drains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialcredit.engine import PlanData
from socialcredit.engine.outcome import Outcome
from socialcredit.errors import InvalidInput
from socialcredit.i18n import LANGUAGES, Message, current, use
from socialcredit.rights import notice_text
from socialcredit.rights.changes import (
    NoticeRow,
    Previous,
    add_factors,
    list_changes,
    measure_changes,
    tier_changes,
)
from socialcredit.store.evaluations import latest_evaluation_id
from socialcredit.store.registry import Subject, first_identifiers
from socialcredit.store.schema import (
    notice_outbox,
    notices,
)
from socialcredit.timeutil import format_instant, now

KINDS = ("measure_applied", "measure_lifted", "list_entered", "list_exited", "tier_changed")
# A subject has this long from an adverse notice to appeal the decision or object to the
# records behind it: the same 30 days the system gives itself to decide an appeal, so neither
# side waits on the other for longer than the other may take.
RESPOND_DAYS = 30
CHANNEL = "webhook"


@dataclass(frozen=True)
class Pending:
    """Notices computed for an evaluation about to be stored (see `prepare_notices`)."""

    previous_evaluation_id: int | None
    rows: list[NoticeRow]
    created_at: datetime  # the instant the notices carry, and their deadlines run from


def prepare_notices(
    conn: sa.Connection,
    data: PlanData,
    outcome: Outcome,
    created_at: datetime,
    subjects: Sequence[int] | None = None,
) -> Pending | None:
    """The notices a current evaluation's `outcome` makes, compared with the evaluation that
    serves now; None when the outcome describes an earlier instant (a look back).

    subjects: the outcome holds the rows of these subjects only (a refresh, `outcomes.refresh`):
              they are compared with those subjects' rows in the evaluation serving now."""
    policy = outcome.policy
    previous_id = latest_evaluation_id(conn, policy.name)
    previous = Previous(conn, previous_id, subjects)
    if previous.as_of is not None and outcome.as_of < previous.as_of:
        return None
    rows = measure_changes(policy, outcome, previous)
    rows += list_changes(policy, outcome, previous)
    if previous_id is not None and policy.scores:
        rows += tier_changes(policy, outcome, previous)
    if previous_id is None:
        # A policy's first evaluation is the baseline: what it does against people (a
        # restriction, a black list) is told to each of them; the privileges it grants are not
        # changes (the demo city's first sesame run granted 71,659 of them).
        rows = [r for r in rows if r.adverse]
    add_factors(data, outcome, rows)
    names = first_identifiers(
        conn,
        {r.subject_id for r in rows}
        | {r.body["cause_sid"] for r in rows if r.body.get("cause_sid") is not None},
    )
    respond_by = format_instant(created_at + timedelta(days=RESPOND_DAYS))
    for row in rows:
        row.body.update(
            policy=policy.name,
            policy_version=policy.version,
            as_of=format_instant(outcome.as_of),
            subject=names.get(row.subject_id),
        )
        cause = row.body.pop("cause_sid", None)
        if cause is not None:
            row.body["cause_subject"] = names.get(cause)
            row.body["collateral"] = cause != row.subject_id
        if row.adverse:
            row.body["contest"] = _contest(row, respond_by)
    rows.sort(key=lambda r: (r.subject_id, KINDS.index(r.kind), r.topic))
    return Pending(previous_id, rows, created_at)


def save_notices(conn: sa.Connection, pending: Pending, evaluation_id: int | None) -> list[int]:
    """Store the notices of a just-stored evaluation and their outbox rows (the caller's
    transaction: the evaluation and its notices commit together). Returns their ids."""
    rows, created_at = pending.rows, pending.created_at
    if not rows:
        return []
    ids = (
        conn.execute(
            notices.insert().returning(notices.c.id, sort_by_parameter_order=True),
            [
                {
                    "subject_id": r.subject_id,
                    "policy_name": r.body.get("policy"),
                    "evaluation_id": evaluation_id,
                    "previous_evaluation_id": pending.previous_evaluation_id,
                    "kind": r.kind,
                    "topic": r.topic,
                    "adverse": r.adverse,
                    "created_at": created_at,
                    "body": r.body,
                }
                for r in rows
            ],
        )
        .scalars()
        .all()
    )
    conn.execute(
        notice_outbox.insert(),
        [
            {
                "notice_id": notice_id,
                "channel": CHANNEL,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": created_at,
                "last_error": None,
                "delivered_at": None,
            }
            for notice_id in ids
        ],
    )
    return [int(i) for i in ids]


# Case notices: the other due-process areas tell a subject how its case ended through the same
# table and outbox (kinds like objection_answered, appeal_decided, repair_decided).
CASE_KIND = r"^[a-z][a-z_]{2,31}$"


def case_notice(
    conn: sa.Connection,
    subject_id: int,
    kind: str,
    topic: str,
    headline: str,
    body: dict[str, Any],
    adverse: bool = False,
    created_at: datetime | None = None,
) -> int:
    """Store a notice about a case (not an evaluation) and its outbox row, in the caller's
    transaction; returns its id. `body` holds what the notice says besides its headline. A
    `Message` headline is stored with its id and parameters too, so that each reader reads it
    in its own language (its parameters must be JSON values)."""
    if kind in KINDS or not re.match(CASE_KIND, kind):
        raise InvalidInput("kind", f"{kind!r} is not a case notice kind (e.g. appeal_decided)")
    if not headline.strip():
        raise InvalidInput("headline", "is empty")
    at = created_at or now()
    pending = Pending(None, [NoticeRow(subject_id, kind, topic[:64], adverse, None)], at)
    named = first_identifiers(conn, [subject_id]).get(subject_id)
    pending.rows[0].body = {"subject": named, **body, "headline": str(headline)}
    if isinstance(headline, Message):
        pending.rows[0].body["headline_message"] = {"id": headline.msgid, "params": headline.params}
    return save_notices(conn, pending, None)[0]


def _contest(row: NoticeRow, respond_by: str | None) -> dict[str, Any]:
    # Stored in English beside the machine data; `notice_text` writes them again in the
    # reader's language when the notice is shown.
    what = (
        notice_text.APPEAL_MEASURE
        if row.kind.startswith("measure")
        else (notice_text.APPEAL_DECISION)
    )
    return {
        "respond_by": respond_by,
        "object": notice_text.OBJECT,
        "appeal": what,
        # The same actions for programs and operators (the portal calls these services).
        "object_via": ["POST /v1/me/objections", "scs objections file"],
        "appeal_via": ["POST /v1/me/appeals", "scs appeals file"],
    }


# --- reading -------------------------------------------------------------------------------


def notice_document(
    row: Any, language: str | None = None, every_language: bool = False
) -> dict[str, Any]:
    """One stored notice as the API, the CLI and the pages show it: its machine data as stored,
    and what a person reads (headline, reason, factors, how to object or appeal) written in
    `language` (by default the one in use). `every_language` adds `translations`: the same
    fields in each other served language (the webhook, whose reader's language is unknown)."""
    body = dict(row.body)
    chosen = language or current()
    with use(chosen):
        human = notice_text.human_fields(row.kind, row.topic, body)
    body.pop("headline", None)
    body.pop("headline_message", None)
    document = {
        "id": row.id,
        "kind": row.kind,
        "topic": row.topic,
        "adverse": bool(row.adverse),
        "policy": row.policy_name,
        "evaluation": row.evaluation_id,
        "previous_evaluation": row.previous_evaluation_id,
        "created_at": format_instant(row.created_at),
        **{k: v for k, v in body.items() if k not in ("notice", "policy")},
        **human,
        "language": chosen,
        "delivery": row.state,
    }
    if every_language:
        document["translations"] = {}
        for other in LANGUAGES:
            if other != chosen:
                with use(other):
                    fields = notice_text.human_fields(row.kind, row.topic, dict(row.body))
                document["translations"][other] = fields
    return document


def list_notices(
    conn: sa.Connection,
    subject: Subject | None = None,
    limit: int = 100,
    offset: int = 0,
    language: str | None = None,
) -> dict[str, Any]:
    """Notices, newest first, with their delivery state; all or one subject's. What a person
    reads in them is in `language` (by default the one in use)."""
    if limit < 1 or limit > 10_000:
        raise InvalidInput("limit", f"{limit} is not between 1 and 10000")
    if offset < 0:
        raise InvalidInput("offset", f"{offset} is negative")
    where = [] if subject is None else [notices.c.subject_id == subject.id]
    total = conn.execute(sa.select(sa.func.count()).select_from(notices).where(*where))
    query = (
        sa.select(notices, notice_outbox.c.state)
        .join(notice_outbox, notice_outbox.c.notice_id == notices.c.id, isouter=True)
        .where(*where)
        .order_by(notices.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return {
        "total": int(total.scalar_one()),
        "notices": [notice_document(r, language) for r in conn.execute(query)],
    }
