"""known_at reproduces an evaluation exactly, even while other writers are at work."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.errors import InvalidInput
from socialcredit.ingest.accept import OPTIONAL, REQUIRED, accept_records
from socialcredit.ingest.files import import_subjects_file, ingest_file
from socialcredit.ingest.readers import read_rows
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.policy.load import load_policy
from socialcredit.settings import Settings
from socialcredit.store.db import writing
from socialcredit.store.evaluations import latest_evaluation, score_rows
from socialcredit.store.policies import add_policy
from socialcredit.store.sources import add_source, get_source
from socialcredit.timeutil import now

POLICY = """
policy: p
version: "1"
title: points
subjects: [person]
model: points
base: 1000
scale: {min: 0, max: 2000}
categories: {all: {}}
rules: [{type: x.bad, category: all, points: -100, expires: 1y, reason: bad}]
"""


@pytest.fixture
def store(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    people = tmp_path / "people.csv"
    people.write_text("identifier,kind,name\next:a,person,A\n")
    import_subjects_file(engine, people)
    with engine.begin() as conn:
        add_source(conn, "s", "test")
        add_policy(conn, load_policy(POLICY))
    return engine


def records(tmp_path: Path, name: str, *ids: str) -> Path:
    path = tmp_path / f"{name}.csv"
    day = (now() - timedelta(days=1)).date().isoformat()
    path.write_text(
        "record_id,subject,type,occurred_at\n" + "".join(f"{i},ext:a,x.bad,{day}\n" for i in ids)
    )
    return path


def scores(engine: sa.Engine, evaluation_id: int) -> list[int]:
    with engine.connect() as conn:
        return [r.score for r in score_rows(conn, evaluation_id)]


def test_an_evaluation_waits_for_writers_and_replays_exactly(
    store: sa.Engine, settings: Settings, tmp_path: Path
) -> None:
    path = records(tmp_path, "slow", "r1")
    started = threading.Event()

    def slow_writer() -> None:
        with writing(store) as conn:
            accept_records(conn, get_source(conn, "s"), read_rows(path, REQUIRED, OPTIONAL), now())
            started.set()
            time.sleep(1.0)  # the record is stamped, not yet committed

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert started.wait(10)
    first = run_evaluations(store, settings)  # must see the slow writer's record
    writer.join()
    assert scores(store, first.results[0].evaluation_id) == [900]

    ingest_file(store, records(tmp_path, "later", "r2"), "s")
    replay = run_evaluations(store, settings, as_of=first.as_of, known_at=first.known_at)
    assert scores(store, replay.results[0].evaluation_id) == [900]
    assert scores(store, run_evaluations(store, settings).results[0].evaluation_id) == [800]


def test_instants_in_the_future_are_refused(store: sa.Engine, settings: Settings) -> None:
    later = now() + timedelta(days=1)
    with pytest.raises(InvalidInput, match=r"known-at: .* is in the future"):
        run_evaluations(store, settings, known_at=later)
    with pytest.raises(InvalidInput, match=r"as-of: .* is in the future"):
        run_evaluations(store, settings, as_of=later)


def test_historical_runs_do_not_replace_the_current_one(
    store: sa.Engine, settings: Settings, tmp_path: Path
) -> None:
    ingest_file(store, records(tmp_path, "one", "r1"), "s")
    current = run_evaluations(store, settings).results[0].evaluation_id
    run_evaluations(store, settings, as_of=now() - timedelta(days=400))
    run_evaluations(store, settings, known_at=now() - timedelta(days=400))
    with store.connect() as conn:
        assert latest_evaluation(conn, "p").id == current
