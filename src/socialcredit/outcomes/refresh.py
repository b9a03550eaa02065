"""Real-time refreshes: bring each current evaluation up to the end of the log, in place.

    catch_up(engine, settings) -> CatchUp | None

A current evaluation (`store.evaluations.latest_evaluation`) stores the log position its rows
reflect (`store.positions`). A refresh reads what the log gained since, finds the subjects
whose rows that can change (`affected`), evaluates them with the one `engine.evaluate` at
the refresh's instant, and rewrites their rows of the evaluation in one transaction with its
distribution, counts and position, a `refreshes` row and the notices of what changed. Nothing
else computes a score (docs/realtime.md says what is exact after each refresh, and what lags).

It is safe from several processes at once (the service and the stream worker): the write
happens only while the evaluation still stands where the refresh read it (else another process
got there first, and the refresh is done again from where that one left it). A crash before
the write leaves the position behind, and the next call catches up.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from socialcredit.engine import evaluate
from socialcredit.engine.evaluate import StageClock, dependencies, dependents
from socialcredit.engine.outcome import Outcome
from socialcredit.engine.scoring import Distribution, percentile_table
from socialcredit.errors import NotFound
from socialcredit.outcomes.live_data import LiveData
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.rights.notices import prepare_notices, save_notices
from socialcredit.settings import Settings
from socialcredit.store.bulk import insert_columns
from socialcredit.store.db import STORE_LOCK, snapshot, writing
from socialcredit.store.evaluations import Evaluation, insert_outcome_rows, latest_evaluation
from socialcredit.store.policies import StoredPolicy, latest_policies
from socialcredit.store.positions import LogPosition, log_position
from socialcredit.store.refreshes import add_refresh
from socialcredit.store.schema import (
    decisions,
    evaluations,
    outcome_lists,
    outcome_scores,
    overrides,
    record_status,
    records,
    relationships,
    subject_instants,
    subjects,
)
from socialcredit.timeutil import now, to_us

_CHUNK = 5_000
ATTEMPTS = 3  # another process's refresh got there first: read again (see `catch_up`)


@dataclass
class Refreshed:
    """One current evaluation brought up to the log."""

    policy: str
    evaluation_id: int
    records: int  # new records in the stretch of the log it read
    changed: int  # subjects the stretch changed (records, statuses, overrides, edges, new)
    subjects: int  # subjects whose rows it rewrote (`affected`)
    changes: int  # decisions applied or lifted
    notices: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    affected: list[int] = field(default_factory=list)  # the subjects whose rows it rewrote
    decided: list[int] = field(default_factory=list)  # those whose decisions changed


@dataclass
class CatchUp:
    at: datetime
    position: LogPosition
    refreshed: list[Refreshed] = field(default_factory=list)
    rebased: list[str] = field(default_factory=list)  # policies given a full run instead
    timings: dict[str, float] = field(default_factory=dict)


def catch_up(
    engine: sa.Engine,
    settings: Settings,
    *,
    data_cache: LiveData | None = None,
    on_commit: Callable[[Refreshed], None] | None = None,
) -> CatchUp | None:
    """Bring every current evaluation of the policies in force up to the end of the log;
    None when each already stands there (a second call with nothing new does nothing).

    data_cache: the registry kept in the engine between calls (`outcomes.live_data.LiveData`);
                without one, the registry is read whole (slow on a large store), and the
                records of the affected subjects from the store.
    on_commit:  told after each evaluation's refresh commits (the gate index's `poke`): the
                policies are refreshed one by one, each in its own transaction, those without
                a network category first (they are the cheap ones), so that a court record
                reaches the flight ban without waiting for a network policy's refresh.

    An evaluation stored before log positions existed, or of a policy version no longer in
    force, or when the sources' reliabilities changed, gets a full current run instead
    (`CatchUp.rebased`).
    """
    cache = data_cache or LiveData(settings, hold_log=False)  # one call: read what it needs
    with cache.lock:
        result: CatchUp | None = None
        for _ in range(ATTEMPTS):
            step = _catch_up_once(engine, settings, cache, on_commit)
            if step is None:
                break
            if result is None:
                result = step
            else:
                result.refreshed += step.refreshed
                result.rebased += step.rebased
                result.at, result.position = step.at, step.position
                for name, seconds in step.timings.items():
                    result.timings[name] = result.timings.get(name, 0.0) + seconds
        return result


def _catch_up_once(
    engine: sa.Engine,
    settings: Settings,
    cache: LiveData,
    on_commit: Callable[[Refreshed], None] | None,
) -> CatchUp | None:
    clock = StageClock()
    with clock.stage("position"), snapshot(engine) as (conn, instant):
        position = log_position(conn)
        serving = _serving(conn)
    behind = [
        (p, e)
        for p, e in serving
        if e.position is None or e.position.behind(position) or not _same_version(p, e)
    ]
    if not behind:
        return None
    result = CatchUp(instant, position, timings=clock.timings)
    with clock.stage("registry"), engine.connect() as conn:
        cache.advance(conn, position)
    rebase = [
        p.name
        for p, e in behind
        if e.position is None or not _same_version(p, e) or cache.sources_changed
    ]
    if rebase:
        with clock.stage("rebase"):
            run_evaluations(engine, settings, names=rebase)
        result.rebased = rebase
    for stored, evaluation in sorted(behind, key=_cheap_first):
        if stored.name in rebase:
            continue
        assert evaluation.position is not None
        done = _refresh(engine, cache, stored, evaluation, position, instant)
        if done is not None:
            result.refreshed.append(done)
            if on_commit is not None and done.subjects:
                on_commit(done)
            for name, seconds in done.timings.items():
                clock.timings[name] = clock.timings.get(name, 0.0) + seconds
    return result


def _cheap_first(serving: tuple[StoredPolicy, Evaluation]) -> tuple[bool, str]:
    """Policies without a network category before those with one (whose affected set is a
    neighbourhood, and whose evaluation builds the graph), then by name."""
    policy = serving[0].policy
    return (policy.network_category is not None, policy.name)


def _serving(conn: sa.Connection) -> list[tuple[StoredPolicy, Evaluation]]:
    """The policies in force that have a current evaluation, each with it."""
    out = []
    for stored in latest_policies(conn):
        try:
            out.append((stored, latest_evaluation(conn, stored.name)))
        except NotFound:  # never evaluated: `scs evaluate` puts a policy into service
            continue
    return out


def _same_version(stored: StoredPolicy, evaluation: Evaluation) -> bool:
    return (stored.version, stored.digest) == (evaluation.policy_version, evaluation.policy_digest)


def changed_subjects(
    conn: sa.Connection, after: LogPosition, upto: LogPosition
) -> tuple[np.ndarray, np.ndarray, int]:
    """What the log changed past `after` up to `upto`: the subjects whose inputs changed
    (sorted ids: the new records' subjects, the subjects of records whose status changed
    (retractions, objections, supersessions), both ends of new relationship versions, new
    subjects); the subjects whose own rows must be evaluated again whether the policy scores
    them or not (sorted ids: the subjects of new overrides, which lift their own decision rows,
    and both ends of new relationship versions, which may have ended a collateral measure on
    an unscored dependent or representative); and the number of new records."""

    def span(column: sa.ColumnElement[int], name: str) -> sa.ColumnElement[bool]:
        return sa.and_(column > getattr(after, name), column <= getattr(upto, name))

    found: list[int] = []
    new_records = conn.execute(
        sa.select(records.c.subject_id).where(span(records.c.id, "records"))
    ).scalars()
    record_subjects = list(new_records)
    found += record_subjects
    found += conn.execute(
        sa.select(records.c.subject_id)
        .join(record_status, record_status.c.record_pk == records.c.id)
        .where(span(record_status.c.id, "status"))
    ).scalars()
    overridden = list(
        conn.execute(
            sa.select(overrides.c.subject_id).where(span(overrides.c.id, "overrides"))
        ).scalars()
    )
    ends: list[int] = []
    for row in conn.execute(
        sa.select(relationships.c.from_id, relationships.c.to_id).where(
            span(relationships.c.id, "relationships")
        )
    ):
        ends += [row.from_id, row.to_id]
    found += ends
    own = np.unique(np.asarray(overridden + ends, dtype=np.int64))
    found += conn.execute(sa.select(subjects.c.id).where(span(subjects.c.id, "subjects"))).scalars()
    ids = np.unique(np.asarray([i for i in found if i is not None], dtype=np.int64))
    return ids, own, len(record_subjects)


def _refresh(
    engine: sa.Engine,
    cache: LiveData,
    stored: StoredPolicy,
    evaluation: Evaluation,
    position: LogPosition,
    instant: datetime,
) -> Refreshed | None:
    """Refresh one evaluation from its position to `position`; None when another process
    moved it meanwhile (the caller reads again)."""
    assert evaluation.position is not None and cache.data is not None
    clock = StageClock()
    started = time.perf_counter()
    policy = stored.policy
    with clock.stage("changes"), engine.connect() as conn:
        changed, own, new_records = changed_subjects(conn, evaluation.position, position)
    # The instant the refreshed rows describe: a run as of what was known then follows the
    # clock; a run given its own as_of keeps it, and only what is known moves.
    as_of = instant if evaluation.follows_clock else evaluation.as_of
    with clock.stage("affected"):
        affected, needed = dependents(cache.data, policy, changed.tolist(), as_of, instant)
        if own.size:  # see `changed_subjects`: their own rows, scored or not
            affected = np.union1d(affected, own)
            needed = np.union1d(
                needed, dependencies(cache.data, policy, own.tolist(), as_of, instant)
            )
    if not affected.size:  # nothing this policy reads changed: only the position moves
        return _moved(
            engine, stored, evaluation, position, instant, new_records, len(changed), started
        )
    with clock.stage("records"), engine.connect() as conn:
        data = cache.with_records(conn, needed.tolist())
    with clock.stage("evaluate"):
        # Percentiles are patched below with the distribution this refresh makes (no
        # condition reads a percentile, so nothing else depends on them). Explained, so that
        # the notices take their factors from it (`rights.changes.add_factors`) instead of
        # evaluating the subjects that get one again.
        outcome = evaluate(
            data,
            policy,
            as_of,
            instant,
            subjects=affected.tolist(),
            distribution=evaluation.distribution,
            explain=policy.scores,
        )
    with clock.stage("compare"), engine.connect() as conn:
        old = _Old.read(conn, evaluation.id, affected)
        distribution = _distribution(evaluation.distribution, old.scores, outcome)
        outcome = _with_percentiles(outcome, distribution)
        pending = prepare_notices(conn, data, outcome, now(), subjects=affected.tolist())
    decided = old.decided(outcome)
    changes = sum(1 for r in pending.rows if r.kind.startswith("measure_")) if pending else 0
    with clock.stage("write"), writing(engine, STORE_LOCK) as conn:
        if not _standing(conn, stored, evaluation):
            return None
        _delete_rows(conn, evaluation.id, affected)
        insert_outcome_rows(conn, evaluation.id, outcome)
        conn.execute(
            evaluations.update()
            .where(evaluations.c.id == evaluation.id)
            .values(
                distribution=[list(pair) for pair in distribution],
                counts=_counts(evaluation.counts, old, outcome, distribution),
                position=position.as_json(),
                refreshed_at=instant,
            )
        )
        _mark_instants(conn, evaluation.id, affected, as_of, instant)
        seconds = time.perf_counter() - started
        add_refresh(
            conn,
            evaluation.id,
            instant,
            new_records,
            len(affected),
            changes,
            round(seconds, 4),
            position,
            decided,
        )
        made = save_notices(conn, pending, evaluation.id) if pending else []
    return Refreshed(
        stored.name,
        evaluation.id,
        new_records,
        len(changed),
        len(affected),
        changes,
        len(made),
        time.perf_counter() - started,
        clock.timings,
        affected.tolist(),
        decided,
    )


def _mark_instants(
    conn: sa.Connection, evaluation_id: int, affected: np.ndarray, as_of: datetime, at: datetime
) -> None:
    """Record the instant the rewritten subjects' rows now describe (`subject_instants`): the
    evaluation's own as_of and known_at stay those of its full run, so that an untouched
    subject's rows are still reproduced exactly."""
    ids = affected.tolist()
    for i in range(0, len(ids), 5_000):
        conn.execute(
            subject_instants.delete().where(
                subject_instants.c.evaluation_id == evaluation_id,
                subject_instants.c.subject_id.in_(ids[i : i + 5_000]),
            )
        )
    insert_columns(
        conn,
        subject_instants,
        {
            "evaluation_id": [evaluation_id] * len(ids),
            "subject_id": ids,
            "as_of": [as_of] * len(ids),
            "known_at": [at] * len(ids),
        },
    )


def _standing(conn: sa.Connection, stored: StoredPolicy, evaluation: Evaluation) -> bool:
    """Whether `evaluation` still serves and stands where the refresh read it (under the store
    lock: else another process refreshed it meanwhile)."""
    stands = conn.execute(
        sa.select(evaluations.c.position).where(evaluations.c.id == evaluation.id)
    ).scalar()
    if stands is None or latest_evaluation(conn, stored.name).id != evaluation.id:
        return False
    return LogPosition.from_json(dict(stands)) == evaluation.position


def _moved(
    engine: sa.Engine,
    stored: StoredPolicy,
    evaluation: Evaluation,
    position: LogPosition,
    instant: datetime,
    new_records: int,
    changed: int,
    started: float,
) -> Refreshed | None:
    """Move the position of an evaluation that nothing in the stretch can change."""
    with writing(engine, STORE_LOCK) as conn:
        if not _standing(conn, stored, evaluation):
            return None
        conn.execute(
            evaluations.update()
            .where(evaluations.c.id == evaluation.id)
            .values(position=position.as_json())
        )
    seconds = time.perf_counter() - started
    return Refreshed(stored.name, evaluation.id, new_records, changed, 0, 0, 0, seconds)


@dataclass
class _Old:
    """The affected subjects' rows of the evaluation before the refresh."""

    scores: list[tuple[int, int]]  # (subject, score)
    lists: Counter[str]
    decisions: dict[int, set[tuple[str, int, int, tuple[str, ...]]]]

    @classmethod
    def read(cls, conn: sa.Connection, evaluation_id: int, affected: np.ndarray) -> _Old:
        scores: list[tuple[int, int]] = []
        lists: Counter[str] = Counter()
        found: dict[int, set[tuple[str, int, int, tuple[str, ...]]]] = {}
        for ids in _chunks(affected):
            query = sa.select(outcome_scores.c.subject_id, outcome_scores.c.score).where(
                outcome_scores.c.evaluation_id == evaluation_id,
                outcome_scores.c.subject_id.in_(ids),
            )
            scores += [(r.subject_id, r.score) for r in conn.execute(query)]
            query2 = sa.select(outcome_lists.c.list_name).where(
                outcome_lists.c.evaluation_id == evaluation_id,
                outcome_lists.c.subject_id.in_(ids),
            )
            lists.update(conn.execute(query2).scalars())
            query3 = sa.select(
                decisions.c.subject_id,
                decisions.c.measure,
                decisions.c.cause_subject_id,
                decisions.c.since,
                decisions.c.reasons,
            ).where(decisions.c.evaluation_id == evaluation_id, decisions.c.subject_id.in_(ids))
            for r in conn.execute(query3):
                found.setdefault(r.subject_id, set()).add(
                    (r.measure, r.cause_subject_id, to_us(r.since), tuple(r.reasons))
                )
        return cls(scores, lists, found)

    def decided(self, outcome: Outcome) -> list[int]:
        """The subjects whose decision rows the outcome changes (sorted)."""
        new: dict[int, set[tuple[str, int, int, tuple[str, ...]]]] = {}
        for d in outcome.decisions.to_pylist():
            new.setdefault(d["sid"], set()).add(
                (d["measure"], d["cause_sid"], d["since_us"], tuple(d["reasons"]))
            )
        return sorted(
            s for s in set(new) | set(self.decisions) if new.get(s) != self.decisions.get(s)
        )


def _chunks(ids: np.ndarray) -> Iterator[list[int]]:
    values = ids.tolist()
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _delete_rows(conn: sa.Connection, evaluation_id: int, affected: np.ndarray) -> None:
    for ids in _chunks(affected):
        for table in (outcome_scores, outcome_lists, decisions):
            conn.execute(
                table.delete().where(
                    table.c.evaluation_id == evaluation_id, table.c.subject_id.in_(ids)
                )
            )


def _distribution(
    stored: Distribution, old: list[tuple[int, int]], outcome: Outcome
) -> Distribution:
    """The histogram of scores: the stored one, minus the affected subjects' old scores, plus
    their new ones (exact: every other subject's score is unchanged)."""
    counts = Counter(dict(stored))
    counts.subtract(score for _, score in old)
    counts.update(outcome.scores["score"].to_pylist())
    return [(score, n) for score, n in sorted(counts.items()) if n > 0]


def _with_percentiles(outcome: Outcome, distribution: Distribution) -> Outcome:
    """The outcome with its percentiles read from `distribution`, as the engine reads them
    (`engine.scoring.percentile_table`), and the distribution in it."""
    policy = outcome.policy
    if policy.scale is None or not outcome.scores.num_rows:
        return dataclasses.replace(outcome, distribution=distribution)
    table = percentile_table(distribution, policy.scale.min, policy.scale.max)
    index = np.asarray(outcome.scores["score"].to_numpy(), dtype=np.int64) - policy.scale.min
    values = table["percentile"].to_numpy()[index]
    column = outcome.scores.schema.get_field_index("percentile")
    scores = outcome.scores.set_column(column, "percentile", pa.array(values, pa.float64()))
    return dataclasses.replace(outcome, scores=scores, distribution=distribution)


def _counts(
    stored: dict[str, int], old: _Old, outcome: Outcome, distribution: Distribution
) -> dict[str, int]:
    """The evaluation's counts with the affected subjects' old rows taken out and the new ones
    put in (the same counts a full evaluation makes), except `records_counted`: the stored rows
    do not say how many records each score read, so it stays as the last full run counted it
    (docs/realtime.md)."""
    counts = dict(stored)
    new = outcome.counts
    old_decisions = Counter(m for rows in old.decisions.values() for m, *_ in rows)
    counts["subjects"] = int(sum(n for _, n in distribution))
    counts["scored"] = stored.get("scored", 0) - len(old.scores) + new["scored"]
    counts["listed"] = stored.get("listed", 0) - sum(old.lists.values()) + new["listed"]
    counts["decisions"] = (
        stored.get("decisions", 0) - sum(old_decisions.values()) + new["decisions"]
    )
    for definition in outcome.policy.lists:
        key = f"list:{definition.name}"
        counts[key] = stored.get(key, 0) - old.lists[definition.name] + new[key]
    for measure in outcome.policy.measures:
        key = f"measure:{measure.name}"
        counts[key] = stored.get(key, 0) - old_decisions[measure.name] + new[key]
    return counts
