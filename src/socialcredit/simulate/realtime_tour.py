"""The demo's real-time tour: a court lists a person, and the airline's gate check flips at once.

The record goes through the same path as `POST /v1/records` (`ingest.batch.ingest_batch`), the
refresh is the same `outcomes.refresh.catch_up` that `scs serve` runs after every write, and the
answers come from the same in-memory `GateIndex` the service answers gate checks from. No
evaluation run happens in between.

Idempotent: the record has a fixed id, so a second demo on the same store finds it stored and
shows the person's standing rather than listing someone else (the demo's outcomes stay the same
run after run). The demo's evaluation is pinned to its as_of, so the refreshed rows are too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa

from socialcredit.ingest.batch import ingest_batch
from socialcredit.outcomes.gate import GateIndex
from socialcredit.outcomes.refresh import catch_up
from socialcredit.outcomes.rerank import rerank
from socialcredit.settings import Settings
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.registry import first_identifiers
from socialcredit.store.schema import decisions, records, subjects

SOURCE, RECORD_ID = "court", "demo-realtime-1"
RECORD_TYPE = "court.dishonest.refuses_to_perform"
MEASURE, POLICY = "flight_ban", "national"


@dataclass(frozen=True)
class RealTimeTour:
    subject: str  # the person's first identifier
    record: str  # SOURCE/RECORD_ID
    before: bool  # whether the gate check said the flight ban applies before the record
    after: bool  # and after the refresh
    seconds: float  # from posting the record to the gate's changed answer
    refreshed: int  # subjects whose rows the refresh rewrote, over every policy
    already: bool  # an earlier demo on this store posted the record


def realtime_tour(
    engine: sa.Engine, settings: Settings, as_of: datetime, skip: int | None
) -> RealTimeTour | None:
    """Post a court listing for an adult the flight ban does not reach (not `skip`, the
    due-process tour's person), refresh, and ask the gate before and after; None when the
    store has no such person or no court source."""
    with engine.connect() as conn:
        stored = listed_by_demo(conn)
        subject_id = stored if stored is not None else _candidate(conn, as_of, skip)
        if subject_id is None:
            return None
        identifier = first_identifiers(conn, [subject_id])[subject_id]
    gate = GateIndex(engine)
    before = _applies(gate, identifier)
    started = time.perf_counter()
    report = ingest_batch(
        engine,
        SOURCE,
        [
            {
                "record_id": RECORD_ID,
                "subject": identifier,
                "type": RECORD_TYPE,
                "occurred_at": (as_of - timedelta(days=1)).isoformat(),
            }
        ],
    )
    if report.rejected:
        return None
    done = catch_up(engine, settings)
    gate.poke()
    after = _applies(gate, identifier)
    seconds = time.perf_counter() - started
    rerank(engine)  # the untouched subjects' percentiles, as `scs serve` does within a minute
    refreshed = sum(r.subjects for r in done.refreshed) if done else 0
    return RealTimeTour(
        identifier, f"{SOURCE}/{RECORD_ID}", before, after, seconds, refreshed, stored is not None
    )


def listed_by_demo(conn: sa.Connection) -> int | None:
    """The person an earlier demo's real-time tour listed, if any (the due-process tour keeps
    following its own person)."""
    found = conn.execute(
        sa.select(records.c.subject_id).where(
            records.c.source_id == SOURCE, records.c.record_id == RECORD_ID
        )
    ).scalar()
    return None if found is None else int(found)


def _applies(gate: GateIndex, identifier: str) -> bool:
    return bool(orjson.loads(gate.check_json(MEASURE, identifier, POLICY)[1])["applies"])


def _candidate(conn: sa.Connection, as_of: datetime, skip: int | None) -> int | None:
    """The first adult person (by id) whom the flight ban does not reach."""
    evaluation = latest_evaluation(conn, POLICY)
    reached = sa.select(decisions.c.subject_id).where(
        decisions.c.evaluation_id == evaluation.id, decisions.c.measure == MEASURE
    )
    found = conn.execute(
        sa.select(subjects.c.id)
        .where(
            subjects.c.kind == "person",
            subjects.c.born <= as_of.year - 25,
            subjects.c.id.not_in(reached),
            subjects.c.id != (skip if skip is not None else -1),
        )
        .order_by(subjects.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)
