"""Gate checks: does a measure apply to a subject? The answer carries only what a gate needs
(applies, the reason codes, since, and the cause subject for a collateral measure), never the
score or the records behind it.

`check_measure` reads the store for one question (the CLI). `GateIndex` holds the decisions
of the current evaluations in memory for the service, which answers thousands of checks a
second; both build the answer with `answer()`, so they cannot disagree.

Both honour the reviewers' overrides granted after the evaluation was run, with the engine's
own predicate (`engine.overrides`): an override granted now answers at the gate within the
index's refresh, before the next evaluation writes it into the decisions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from socialcredit.engine.overrides import Lifted, lifted
from socialcredit.errors import InvalidInput, NotFound
from socialcredit.identifiers import parse
from socialcredit.outcomes.publish import mask
from socialcredit.store.evaluations import (
    Evaluation,
    evaluation_for,
    get_evaluation,
    latest_evaluation,
    latest_evaluation_id,
    newest_instant,
    subject_outcome,
)
from socialcredit.store.policies import StoredPolicy, get_policy, latest_policies
from socialcredit.store.registry import find_subject, first_identifiers, resolve
from socialcredit.store.schema import (
    decisions,
    identifiers,
    overrides,
    policies,
    refreshes,
    subjects,
)
from socialcredit.store.snapshot import load_overrides
from socialcredit.timeutil import format_instant, to_us


@dataclass(frozen=True)
class Decision:
    cause_subject_id: int
    since: datetime
    reasons: tuple[str, ...]


def choose(found: Sequence[Decision], subject_id: int) -> Decision | None:
    """One decision answers: the subject's own if there is one, else the earliest collateral
    one. Its reasons, since and cause are reported together, never mixed with another's."""
    if not found:
        return None
    own = [d for d in found if d.cause_subject_id == subject_id]
    return own[0] if own else min(found, key=lambda d: (d.since, d.cause_subject_id))


def answer(
    measure: str,
    subject: str,
    policy: str,
    as_of: datetime,
    chosen: Decision | None,
    cause: str | None,
) -> dict[str, Any]:
    return {
        "measure": measure,
        "subject": subject,
        "applies": chosen is not None,
        "reasons": list(chosen.reasons) if chosen else [],
        "since": format_instant(chosen.since) if chosen else None,
        "cause_subject": cause,
        "policy": policy,
        "as_of": format_instant(as_of),
    }


def check_measure(
    conn: sa.Connection,
    measure: str,
    identifier: str,
    policy: str | None = None,
    evaluation_id: int | None = None,
) -> dict[str, Any]:
    """Answer one gate check from the store: the latest current evaluation of the policy that
    declares the measure (or `evaluation_id`)."""
    stored = policy_with_measure(conn, measure, policy)
    subject = find_subject(conn, identifier)
    evaluation = evaluation_for(conn, stored.name, evaluation_id)
    gone = lifted_now(conn, evaluation)
    found = [
        Decision(d.cause_subject_id, d.since, tuple(d.reasons))
        for d in subject_outcome(conn, evaluation.id, subject.id).decisions
        if d.measure == measure
        and Lifted(measure, subject.id, d.cause_subject_id, tuple(d.reasons)) not in gone
    ]
    chosen = choose(found, subject.id)
    cause = None
    if chosen is not None and chosen.cause_subject_id != subject.id:
        cause = cause_names(conn, [chosen.cause_subject_id])[chosen.cause_subject_id]
    label = f"{stored.name} {evaluation.policy_version}"
    as_of = newest_instant(evaluation)[0]
    return answer(measure, str(parse(identifier)), label, as_of, chosen, cause)


def lifted_now(conn: sa.Connection, evaluation: Evaluation) -> set[Lifted]:
    """The decision rows of `evaluation` that the overrides in the store lift at its as_of
    (all of them known: the ones granted since it ran too)."""
    return lifted(load_overrides(conn), evaluation.policy_name, to_us(evaluation.as_of), None)


def overrides_seen(conn: sa.Connection) -> int:
    """The newest override's id (0: none): a new one makes the index reload its answers."""
    return int(conn.execute(sa.select(sa.func.max(overrides.c.id))).scalar() or 0)


def cause_names(conn: sa.Connection, subject_ids: Iterable[int]) -> dict[int, str]:
    """How an answer names the subject whose conduct a collateral measure follows: a person's
    identity number masked as public lists mask it (region and last four characters), an
    organization's code in full. A gate needs the reason, not the relative's identity."""
    ids = list(subject_ids)
    names = first_identifiers(conn, ids)
    kinds = dict(
        conn.execute(sa.select(subjects.c.id, subjects.c.kind).where(subjects.c.id.in_(ids))).all()
    )
    return {sid: mask(name, kinds.get(sid, "person")) for sid, name in names.items()}


def policy_with_measure(conn: sa.Connection, measure: str, policy: str | None) -> StoredPolicy:
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
            f"measure {measure!r} is in several policies ({names}); choose one "
            "(--policy, or policy= over HTTP)",
        )
    return having[0]


@dataclass
class _Measure:
    policy: str
    label: str
    evaluation: Evaluation
    policies_seen: int  # max(policies.id) when resolved: a new policy version re-resolves
    overrides_seen: int  # max(overrides.id) when loaded: a new override reloads the answers
    answers: dict[int, tuple[Decision, str | None]]  # subject id -> chosen decision, cause name
    bodies: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # asked -> it, JSON
    checked: float = 0.0  # monotonic time the evaluation was last confirmed current
    refreshes_seen: int = 0  # max(refreshes.id) when loaded or followed
    polled: float = 0.0  # monotonic time the refreshes were last polled
    measure: str = ""


class GateIndex:
    """The decisions of the current evaluations, in memory, and each answer as JSON.

    A new evaluation (or policy version) is picked up within `refresh` seconds; the answer
    names the policy version and as_of it comes from. A real-time refresh of the current
    evaluation (`outcomes.refresh`) is followed within `quick` seconds (one cheap query: the
    newest `refreshes` id), by reloading only the answers of the subjects whose decisions it
    changed; `poke()` makes the next check look at once (the service's own refresher calls it).
    Identifiers are loaded once and never change meaning (an identifier is never reassigned),
    so only an unknown one costs a lookup.
    """

    def __init__(self, engine: sa.Engine, refresh: float = 1.0, quick: float = 0.05) -> None:
        self.engine = engine
        self.refresh = refresh
        self.quick = quick
        self._subjects: dict[str, int] | None = None  # canonical identifier -> subject id
        self._measures: dict[tuple[str, str | None], _Measure] = {}
        self._lock = threading.Lock()
        self._poked = False

    def poke(self) -> None:
        """Look for refreshes at the next check (a refresh in this process has just ended)."""
        self._poked = True

    def check_json(
        self, measure: str, identifier: str, policy: str | None = None
    ) -> tuple[str, bytes]:
        """The identifier asked about (canonical) and the answer as JSON, built once per
        evaluation and identifier. The answer names the subject as the caller did: another of
        the subject's identifiers is none of the gate's business."""
        entry = self._measure(measure, policy)
        subject_id, asked = self._subject(identifier)
        found = entry.bodies.get(asked)
        if found is None:
            chosen, cause = entry.answers.get(subject_id, (None, None))
            # as of the newest refresh: the log up to there is in every answer (docs/realtime.md)
            as_of = newest_instant(entry.evaluation)[0]
            document = answer(measure, asked, entry.label, as_of, chosen, cause)
            found = entry.bodies[asked] = (asked, orjson.dumps(document))
        return found

    def warm(self) -> None:
        """Load the identifiers now rather than at the first check."""
        if self._subjects is None:
            self._load_subjects()

    def _load_subjects(self) -> None:
        with self._lock, self.engine.connect() as conn:
            rows = conn.execute(sa.select(identifiers.c.identifier, identifiers.c.subject_id)).all()
        self._subjects = {r.identifier: r.subject_id for r in rows}

    def _subject(self, identifier: str) -> tuple[int, str]:
        """The subject id and the canonical identifier."""
        if self._subjects is None:
            self._load_subjects()
        assert self._subjects is not None
        found = self._subjects.get(identifier)  # keys are canonical
        if found is not None:
            return found, identifier
        canonical = str(parse(identifier))
        found = self._subjects.get(canonical)
        if found is None:
            with self.engine.connect() as conn:
                ids = resolve(conn, [canonical])
            if canonical not in ids:
                raise NotFound(f"no subject with identifier {canonical}")
            found = self._subjects[canonical] = ids[canonical]
        return found, canonical

    def _measure(self, measure: str, policy: str | None) -> _Measure:
        entry = self._measures.get((measure, policy))
        if entry is not None:
            moment = time.monotonic()
            if self._poked or moment - entry.polled >= self.quick:
                self._follow(entry)
            if time.monotonic() - entry.checked < self.refresh:
                return entry
        with self._lock, self.engine.connect() as conn:
            newest_policy = conn.execute(sa.select(sa.func.max(policies.c.id))).scalar() or 0
            newest_override = overrides_seen(conn)
            if (
                entry is not None
                and entry.policies_seen == newest_policy
                and entry.overrides_seen == newest_override
            ):
                current = latest_evaluation_id(conn, entry.policy)
                if current == entry.evaluation.id:
                    entry.checked = time.monotonic()
                    return entry
            stored = policy_with_measure(conn, measure, policy)
            seen = _newest_refresh(conn)
            evaluation = latest_evaluation(conn, stored.name)
            entry = _Measure(
                stored.name,
                f"{stored.name} {evaluation.policy_version}",
                evaluation,
                newest_policy,
                newest_override,
                _answers(conn, evaluation, measure),
                checked=time.monotonic(),
                refreshes_seen=seen,
                polled=time.monotonic(),
                measure=measure,
            )
            self._measures[(measure, policy)] = entry
            return entry

    def _follow(self, entry: _Measure) -> None:
        """Bring `entry` up to the refreshes of its evaluation since it last looked: reload
        the answers of the subjects whose decisions they changed (and the evaluation's as_of)."""
        with self._lock, self.engine.connect() as conn:
            self._poked = False
            entry.polled = time.monotonic()
            newest = _newest_refresh(conn)
            if newest <= entry.refreshes_seen:
                return
            rows = conn.execute(
                sa.select(refreshes.c.decided).where(
                    refreshes.c.id > entry.refreshes_seen,
                    refreshes.c.id <= newest,
                    refreshes.c.evaluation_id == entry.evaluation.id,
                )
            ).scalars()
            changed = sorted({int(s) for decided in rows for s in (decided or [])})
            entry.refreshes_seen = newest
            evaluation = get_evaluation(conn, entry.evaluation.id)
            answers = dict(entry.answers)
            for sid in changed:
                answers.pop(sid, None)
            if changed:
                answers.update(_answers(conn, evaluation, entry.measure, changed))
            entry.evaluation, entry.answers, entry.bodies = evaluation, answers, {}


def _newest_refresh(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.max(refreshes.c.id))).scalar() or 0)


def _answers(
    conn: sa.Connection,
    evaluation: Evaluation,
    measure: str,
    subject_ids: list[int] | None = None,
) -> dict[int, tuple[Decision, str | None]]:
    """The answers of `evaluation` for `measure` (of `subject_ids` only, when given)."""
    by_subject: dict[int, list[Decision]] = {}
    query = (
        sa.select(decisions.c.subject_id, decisions.c.cause_subject_id, decisions.c.since)
        .add_columns(decisions.c.reasons)
        .where(decisions.c.evaluation_id == evaluation.id, decisions.c.measure == measure)
    )
    found: list[Any] = []
    if subject_ids is None:
        found = list(conn.execute(query))
    for start in range(0, len(subject_ids or []), 5_000):
        chunk = (subject_ids or [])[start : start + 5_000]
        found += conn.execute(query.where(decisions.c.subject_id.in_(chunk))).all()
    gone = lifted_now(conn, evaluation)
    for r in found:
        if Lifted(measure, r.subject_id, r.cause_subject_id, tuple(r.reasons)) in gone:
            continue
        by_subject.setdefault(r.subject_id, []).append(
            Decision(r.cause_subject_id, r.since, tuple(r.reasons))
        )
    chosen = {sid: choose(found, sid) for sid, found in by_subject.items()}
    causes = {d.cause_subject_id for sid, d in chosen.items() if d and d.cause_subject_id != sid}
    names = cause_names(conn, causes) if causes else {}
    return {
        sid: (d, names[d.cause_subject_id] if d.cause_subject_id != sid else None)
        for sid, d in chosen.items()
        if d is not None
    }
