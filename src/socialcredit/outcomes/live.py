"""The live view: how current the outcomes are, now. One service for the dashboard's live
section (the page and its event stream) and `GET /v1/live`.

- the stream's lag (`stream.status`; None when there is no stream to show);
- records per second that refreshes brought in over the last `WINDOW` seconds, and the latest
  refresh;
- per policy, the refreshes since its current evaluation was stored by a full run, and how far
  the percentiles of the subjects they did not touch may lag (`percentile_lag`);
- the latest decisions that changed (notices `measure_applied` / `measure_lifted`, newest first):
  personal data, for staff only; other callers get None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from socialcredit.i18n import text
from socialcredit.outcomes.dashboard import summaries
from socialcredit.policy.schema import Policy
from socialcredit.rights.notice_text import words
from socialcredit.sharing.access import OVERSIGHT, STAFF, require_role
from socialcredit.sharing.keys import Principal
from socialcredit.store.policies import latest_policies
from socialcredit.store.refreshes import Refresh, latest_refresh, recent_rate, refresh_totals
from socialcredit.store.schema import evaluations, notices, refreshes, subjects
from socialcredit.stream.status import StreamStatus

WINDOW = 10  # seconds over which records per second are counted
LATEST = 10  # decisions shown
DECISION_KINDS = ("measure_applied", "measure_lifted")


@dataclass(frozen=True)
class PolicyFreshness:
    policy: str
    evaluation: int
    scored: int  # N: subjects the evaluation scores now
    refreshes: int  # since the full run that stored the evaluation
    records: int
    subjects: int  # rows rewritten, summed over those refreshes
    percentile_lag: float | None  # at most this much (0..1); None: the policy has no scores


@dataclass(frozen=True)
class DecisionChange:
    notice: int  # the notice's id (the event stream's position)
    applied: bool  # False: lifted
    measure: str
    label: str | dict[str, str] | None  # the policy's words for the measure, if it has some
    measure_kind: str  # restriction | privilege
    policy: str
    subject: str  # the subject's first identifier
    name: str
    collateral: bool  # the measure rests on another subject's conduct
    at: datetime

    @property
    def measure_text(self) -> str:
        """The measure in words, in the language in use (its label, else its name)."""
        return text(self.label) if self.label else words(self.measure)


@dataclass(frozen=True)
class LiveView:
    at: datetime
    stream: StreamStatus | None
    window: int
    records_per_second: float
    latest_refresh: Refresh | None
    policies: list[PolicyFreshness]
    decisions: list[DecisionChange] | None  # None: not for this caller (personal data)


def live_view(
    conn: sa.Connection,
    who: Principal,
    at: datetime,
    stream: StreamStatus | None,
    after: int = 0,
    limit: int = LATEST,
) -> LiveView:
    """The live view for `who` (the dashboard's readers: admin, operator, auditor; decisions for
    staff only) at `at`. `stream` is `stream.status.stream_status`'s answer, asked by the caller
    outside any transaction. `after`: only decisions of notices after this id."""
    require_role(who, OVERSIGHT, "the live view")
    evaluated = [s for s in summaries(conn) if s.evaluation is not None]
    totals = refresh_totals(conn, [s.evaluation for s in evaluated if s.evaluation is not None])
    freshness = []
    for s in evaluated:
        assert s.evaluation is not None
        t = totals.get(s.evaluation)
        rewritten = t.subjects if t else 0
        freshness.append(
            PolicyFreshness(
                s.name,
                s.evaluation,
                s.scored,
                t.refreshes if t else 0,
                t.records if t else 0,
                rewritten,
                percentile_lag(rewritten, s.scored) if s.model != "none" else None,
            )
        )
    staff = who.role in STAFF
    return LiveView(
        at=at,
        stream=stream,
        window=WINDOW,
        records_per_second=recent_rate(conn, at, WINDOW),
        latest_refresh=latest_refresh(conn),
        policies=freshness,
        decisions=latest_decisions(conn, after, limit) if staff else None,
    )


def percentile_lag(rewritten: int, scored: int) -> float:
    """How far the percentile of a subject no refresh touched may be from the one a full run
    would give now (0..1), after refreshes that rewrote `rewritten` subjects' rows in total.

    A subject's percentile counts the others below it, over N - 1. One other subject whose score
    changes, or a new subject, moves it by at most 1/(N - 1) (with a new one, N grows: the move
    is then at most 1/N). Each refresh counts every subject it rewrote, which is at least those
    whose score changed, so `rewritten` over-counts, never under-counts: the bound is safe, and
    loose when rewritten rows kept their scores. N was smaller before new subjects came; at
    least N - rewritten, which is what the bound divides by."""
    if rewritten <= 0:
        return 0.0
    before = scored - rewritten  # the fewest subjects the evaluation may have scored at its run
    if before <= 1:
        return 1.0
    return min(1.0, rewritten / (before - 1))


def latest_decisions(
    conn: sa.Connection, after: int = 0, limit: int = LATEST
) -> list[DecisionChange]:
    """The newest notices of a measure applied or lifted (after notice `after`), newest first."""
    query = (
        sa.select(notices, subjects.c.name)
        .join(subjects, subjects.c.id == notices.c.subject_id)
        .where(notices.c.kind.in_(DECISION_KINDS), notices.c.id > after)
        .order_by(notices.c.id.desc())
        .limit(limit)
    )
    rows = list(conn.execute(query))
    labels = _labels(conn, {r.policy_name for r in rows if r.policy_name})
    out = []
    for r in rows:
        body = r.body or {}
        measure = str(body.get("measure") or r.topic)
        out.append(
            DecisionChange(
                notice=int(r.id),
                applied=r.kind == "measure_applied",
                measure=measure,
                label=labels.get((r.policy_name, measure)),
                measure_kind=str(body.get("measure_kind") or ""),
                policy=r.policy_name or "",
                subject=str(body.get("subject") or ""),
                name=r.name,
                collateral=bool(body.get("collateral")),
                at=r.created_at,
            )
        )
    return out


def _labels(
    conn: sa.Connection, names: set[str]
) -> dict[tuple[str, str], str | dict[str, str] | None]:
    """Each measure's label in the version in force of the named policies."""
    found: dict[tuple[str, str], str | dict[str, str] | None] = {}
    if not names:
        return found
    for stored in latest_policies(conn):
        if stored.name in names:
            policy: Policy = stored.policy
            for m in policy.measures:
                found[(stored.name, m.name)] = m.label
    return found


def decisions_after(conn: sa.Connection, after: int) -> int:
    """How many measures were applied or lifted in notices after notice `after`."""
    query = (
        sa.select(sa.func.count())
        .select_from(notices)
        .where(notices.c.kind.in_(DECISION_KINDS), notices.c.id > after)
    )
    return int(conn.execute(query).scalar_one())


def change_marker(conn: sa.Connection) -> tuple[int, int, int]:
    """The newest evaluation, refresh and notice: when it moves, the live view has changed
    (three lookups of a maximum id; cheap enough to ask several times a second)."""
    newest = [
        sa.select(sa.func.max(t.c.id)).scalar_subquery() for t in (evaluations, refreshes, notices)
    ]
    row = conn.execute(sa.select(*newest)).one()
    return (int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))
