"""Appeals of decisions and human review (GDPR Art. 22).

A subject (or staff on its behalf) appeals a decision: a measure that applies to it in the
current evaluation of a policy, because of its own conduct or collaterally. A reviewer upholds
the decision or grants an override, which lifts the measure for that subject until a date, or
until its cause changes (its reason codes differ). The override is a row that `evaluate` and the
gate read (`engine.overrides`), so it persists across every later evaluation and replays with
`known_at`. Appeals are never decided by the system: one unanswered by its deadline is listed
and counted as overdue (`resolve_overdue`), and stays open for a human.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialcredit.engine.overrides import Lifted
from socialcredit.errors import Conflict, InvalidInput, NotFound
from socialcredit.i18n import Message
from socialcredit.identifiers import parse
from socialcredit.outcomes.gate import Decision, choose, lifted_now
from socialcredit.rights.cases import Event, required_text
from socialcredit.store.evaluations import latest_evaluation, latest_evaluation_id, subject_outcome
from socialcredit.store.policies import get_policy
from socialcredit.store.registry import Subject, first_identifiers, resolve
from socialcredit.store.schema import appeals, evaluations, overrides
from socialcredit.timeutil import as_utc, format_instant, now

# A decision is due 30 days after filing: GDPR Art. 12(3) gives a controller one month to act
# on a data subject's request, and FCRA §611 30 days for a reinvestigation. Overdue appeals are
# reported, never decided automatically: Art. 22 wants a human to decide.
DECISION_DAYS = 30
OUTCOMES = ("uphold", "override")
STATUS_OF = {"uphold": "upheld", "override": "overridden"}


@dataclass(frozen=True)
class Appeal:
    id: int
    subject_id: int
    policy: str
    measure: str
    cause_subject_id: int
    reasons: tuple[str, ...]
    since: datetime
    evaluation_id: int
    grounds: str
    filed_at: datetime
    filed_by: str
    due_at: datetime
    status: str  # open | upheld | overridden
    decided_at: datetime | None
    decided_by: str | None
    note: str | None
    until: datetime | None  # the override's end (None: until its cause changes)

    def overdue(self, at: datetime) -> bool:
        return self.status == "open" and self.due_at <= at

    def timeline(self) -> list[Event]:
        events = [Event(self.filed_at, Message("appeal filed"))]
        if self.decided_at is None:
            events.append(Event(self.due_at, Message("a reviewer's decision is due"), done=False))
            return events
        if self.status == "upheld":
            events.append(Event(self.decided_at, Message("decision upheld by a reviewer")))
            return events
        events.append(Event(self.decided_at, Message("override granted: the measure is lifted")))
        if self.until is not None:
            ended = self.until <= now()
            events.append(Event(self.until, Message("the override ends"), done=ended))
        return events


def _appeal(row: Any) -> Appeal:
    return Appeal(
        id=int(row.id),
        subject_id=int(row.subject_id),
        policy=row.policy_name,
        measure=row.measure,
        cause_subject_id=int(row.cause_subject_id),
        reasons=tuple(row.reasons),
        since=row.since,
        evaluation_id=int(row.evaluation_id),
        grounds=row.grounds,
        filed_at=row.filed_at,
        filed_by=row.filed_by,
        due_at=row.due_at,
        status=row.status,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        note=row.note,
        until=row.until,
    )


def _query() -> sa.Select[Any]:
    return sa.select(appeals, overrides.c.until).outerjoin(
        overrides, overrides.c.appeal_id == appeals.c.id
    )


def get_appeal(conn: sa.Connection, appeal_id: int) -> Appeal:
    row = conn.execute(_query().where(appeals.c.id == appeal_id)).first()
    if row is None:
        raise NotFound(Message("no appeal {appeal}", appeal=appeal_id))
    return _appeal(row)


def list_appeals(
    conn: sa.Connection,
    at: datetime,
    state: str | None = None,
    subject_id: int | None = None,
) -> list[Appeal]:
    """Appeals by due date (state: None for all, "open", or "overdue" as of `at`)."""
    query = _query().order_by(appeals.c.due_at, appeals.c.id)
    if state not in (None, "open", "overdue"):
        raise InvalidInput("state", Message("{state} is not open or overdue", state=repr(state)))
    if state is not None:
        query = query.where(appeals.c.status == "open")
    if state == "overdue":
        query = query.where(appeals.c.due_at <= at)
    if subject_id is not None:
        query = query.where(appeals.c.subject_id == subject_id)
    return [_appeal(r) for r in conn.execute(query)]


def file_appeal(
    conn: sa.Connection,
    subject: Subject,
    policy: str,
    measure: str,
    grounds: str,
    actor: str,
    cause: str | None = None,
) -> Appeal:
    """Appeal the decision that puts `measure` of `policy` on `subject` in the policy's current
    evaluation (the one the subject `cause` (scheme:value) brings about, if given; else its own
    if there is one, else the earliest collateral one, as the gate chooses). Raises NotFound for
    an unknown policy or measure, Conflict when the measure does not apply (the same whether or
    not `cause` is registered: filing says nothing about other subjects) or an appeal of it is
    open."""
    text = required_text("grounds", grounds)
    cause_id = None
    if cause is not None:
        canonical = str(parse(cause))
        cause_id = resolve(conn, [canonical]).get(canonical, 0)  # 0: nobody's id
    stored = get_policy(conn, policy)
    if stored.policy.measure(measure) is None:
        names = ", ".join(m.name for m in stored.policy.measures) or "none"
        raise NotFound(
            Message(
                "policy {policy} has no measure {measure} (measures: {names})",
                policy=stored.name,
                measure=repr(measure),
                names=names,
            )
        )
    evaluation = latest_evaluation(conn, stored.name)
    gone = lifted_now(conn, evaluation)  # already lifted: nothing left to appeal
    found = [
        Decision(d.cause_subject_id, d.since, tuple(d.reasons))
        for d in subject_outcome(conn, evaluation.id, subject.id).decisions
        if d.measure == measure
        and Lifted(measure, subject.id, d.cause_subject_id, tuple(d.reasons)) not in gone
        and (cause_id is None or d.cause_subject_id == cause_id)
    ]
    chosen = choose(found, subject.id)
    if chosen is None:
        where = {
            "measure": measure,
            "subject": subject.identifier,
            "policy": stored.name,
            "as_of": format_instant(evaluation.as_of),
        }
        if cause is not None:
            raise Conflict(
                Message(
                    "{measure} does not apply to {subject} because of {cause} in the current "
                    "evaluation of {policy} (as of {as_of}); there is no decision to appeal",
                    cause=str(parse(cause)),
                    **where,
                )
            )
        raise Conflict(
            Message(
                "{measure} does not apply to {subject} in the current evaluation of {policy} "
                "(as of {as_of}); there is no decision to appeal",
                **where,
            )
        )
    open_one = conn.execute(
        sa.select(appeals.c.id).where(
            appeals.c.subject_id == subject.id,
            appeals.c.policy_name == stored.name,
            appeals.c.measure == measure,
            appeals.c.cause_subject_id == chosen.cause_subject_id,
            appeals.c.status == "open",
        )
    ).scalar()
    if open_one is not None:
        raise Conflict(
            Message(
                "appeal {appeal} of this decision is still open; wait for its decision",
                appeal=open_one,
            )
        )
    filed = now()
    appeal_id = conn.execute(
        appeals.insert()
        .values(
            subject_id=subject.id,
            policy_name=stored.name,
            measure=measure,
            cause_subject_id=chosen.cause_subject_id,
            reasons=list(chosen.reasons),
            since=chosen.since,
            evaluation_id=evaluation.id,
            grounds=text,
            filed_at=filed,
            filed_by=actor,
            due_at=filed + timedelta(days=DECISION_DAYS),
            status="open",
        )
        .returning(appeals.c.id)
    ).scalar_one()
    return get_appeal(conn, int(appeal_id))


def decide_appeal(
    conn: sa.Connection,
    appeal_id: int,
    outcome: str,
    note: str,
    actor: str,
    until: datetime | None = None,
) -> Appeal:
    """A reviewer's decision: "uphold", or "override" (the measure is lifted for the subject
    until `until`, or until its cause changes when `until` is None)."""
    if outcome not in OUTCOMES:
        raise InvalidInput(
            "outcome", Message("{outcome} is not uphold or override", outcome=repr(outcome))
        )
    text = required_text("note", note)
    decided = now()
    if until is not None:
        until = as_utc(until)
        if outcome != "override":
            raise InvalidInput(
                "until", Message("only an override has an end; an upheld decision stays")
            )
        if until <= decided:
            raise InvalidInput(
                "until",
                Message(
                    "{until} is not after now ({now})",
                    until=format_instant(until),
                    now=format_instant(decided),
                ),
            )
    appeal = get_appeal(conn, appeal_id)
    if appeal.status != "open":
        raise Conflict(
            Message(
                "appeal {appeal} was already decided ({status}) at {at}",
                appeal=appeal_id,
                status=appeal.status,
                at=format_instant(appeal.decided_at),
            )
        )
    changed = conn.execute(
        sa.update(appeals)
        .where(appeals.c.id == appeal_id, appeals.c.status == "open")
        .values(status=STATUS_OF[outcome], decided_at=decided, decided_by=actor, note=text)
    ).rowcount
    if changed != 1:
        raise Conflict(
            Message("appeal {appeal} was decided by someone else meanwhile", appeal=appeal_id)
        )
    if outcome == "override":
        conn.execute(
            overrides.insert().values(
                subject_id=appeal.subject_id,
                policy_name=appeal.policy,
                measure=appeal.measure,
                cause_subject_id=appeal.cause_subject_id,
                reasons=list(appeal.reasons),
                granted_at=decided,
                until=until,
                appeal_id=appeal.id,
            )
        )
    return get_appeal(conn, appeal_id)


def resolve_overdue(conn: sa.Connection, at: datetime) -> int:
    """The sweep's step: how many appeals are open past their deadline as of `at`. They are
    counted (and listed by `list_appeals(state="overdue")`), never decided: a human must."""
    query = sa.select(sa.func.count()).where(appeals.c.status == "open", appeals.c.due_at <= at)
    return int(conn.execute(query).scalar_one())


def appeal_document(conn: sa.Connection, appeal: Appeal, at: datetime) -> dict[str, Any]:
    """The appeal as its subject, staff and reviewers read it (JSON, the CLI, the pages)."""
    names = first_identifiers(conn, {appeal.subject_id, appeal.cause_subject_id})
    collateral = appeal.cause_subject_id != appeal.subject_id
    return {
        "id": appeal.id,
        "subject": names.get(appeal.subject_id),
        "policy": appeal.policy,
        "measure": appeal.measure,
        "collateral": collateral,
        "cause_subject": names.get(appeal.cause_subject_id) if collateral else None,
        "reasons": list(appeal.reasons),
        "since": format_instant(appeal.since),
        "evaluation": appeal.evaluation_id,
        "grounds": appeal.grounds,
        "filed_at": format_instant(appeal.filed_at),
        "filed_by": appeal.filed_by,
        "due_at": format_instant(appeal.due_at),
        "overdue": appeal.overdue(at),
        "status": appeal.status,
        "decided_at": format_instant(appeal.decided_at),
        "decided_by": appeal.decided_by,
        "note": appeal.note,
        "until": format_instant(appeal.until),
        "timeline": [e.document() for e in appeal.timeline()],
    }


def queue_rows(conn: sa.Connection, at: datetime) -> list[dict[str, Any]]:
    """The open appeals as rows of the reviewers' work queue (`rights.queue.open_cases`), by
    due date: what, whose, due when, overdue or not, and the page where a reviewer decides."""
    found = list_appeals(conn, at, "open")
    names = first_identifiers(conn, {a.subject_id for a in found})
    return [
        {
            "kind": "appeal",
            "id": a.id,
            "subject": names.get(a.subject_id),
            "filed_at": a.filed_at,
            "what": Message("appeal of {measure} ({policy})", measure=a.measure, policy=a.policy),
            "due_at": a.due_at,
            "overdue": a.overdue(at),
            "url": f"/review/appeals/{a.id}",
        }
        for a in found
    ]


def overrides_ended(conn: sa.Connection, at: datetime) -> int:
    """The sweep's step for overrides with an end date: those that ended after their policy's
    serving evaluation, by `at`. Time alone reapplies those measures, so the sweep re-evaluates
    (and the notices tell the subjects). Changes nothing itself."""
    ended = 0
    names = conn.execute(
        sa.select(overrides.c.policy_name).where(overrides.c.until.is_not(None)).distinct()
    ).scalars()
    for name in list(names):
        serving = latest_evaluation_id(conn, name)
        if serving is None:
            continue
        as_of = conn.execute(
            sa.select(evaluations.c.as_of).where(evaluations.c.id == serving)
        ).scalar_one()
        ended += int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(overrides)
                .where(
                    overrides.c.policy_name == name,
                    overrides.c.until > as_of,
                    overrides.c.until <= at,
                )
            ).scalar_one()
        )
    return ended
