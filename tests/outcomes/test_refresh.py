"""Real-time refreshes on the village (SQLite and PostgreSQL): idempotence, a refresh that never
ran after a commit (the next call catches up), the notices a refresh makes, `scs refresh`, and
in a served app the gate check flipping after `POST /v1/records` with no evaluation run."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.api.app import start_refresher
from socialcredit.ingest.batch import ingest_batch
from socialcredit.outcomes.live_data import LiveData
from socialcredit.outcomes.refresh import catch_up
from socialcredit.rights.reports import explain_subject, report_document
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.evaluations import latest_evaluation, subject_instant
from socialcredit.store.positions import log_position
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import decisions, identifiers, notices, outcome_scores, refreshes
from tests.api.conftest import build_village, mint_keys, scs
from tests.outcomes.compare import compare

NOW = "2026-06-01T00:00:00Z"
MOTHER = "cn-rid:371082198209030223"  # under no measure in the village's evaluation
LISTING = {
    "record_id": "c-rt-1",
    "subject": MOTHER,
    "type": "court.dishonest.refuses_to_perform",
    "occurred_at": "2026-05-01",
}


@pytest.fixture
def village(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SCS_NOW", NOW)
    build_village(settings)
    return settings


def test_a_refresh_without_anything_new_does_nothing(village: Settings) -> None:
    engine = create_engine(village)
    try:
        assert catch_up(engine, village) is None
        with engine.connect() as conn:
            assert latest_evaluation(conn, "national").position == log_position(conn)
    finally:
        engine.dispose()


def test_a_commit_whose_refresh_never_ran_is_caught_up_by_the_next_call(
    village: Settings,
) -> None:
    """A crash between the ingest's commit and its refresh loses nothing: the evaluation's
    position stays behind the log, and the next call (another process's) refreshes it."""
    engine = create_engine(village)
    try:
        assert ingest_batch(engine, "court", [LISTING]).accepted == 1  # then "crash"
        with engine.connect() as conn:
            assert latest_evaluation(conn, "national").position != log_position(conn)
        done = catch_up(engine, village, data_cache=LiveData(village))
        assert done is not None
        assert {r.policy for r in done.refreshed} == {"national", "sesame"}
        national = next(r for r in done.refreshed if r.policy == "national")
        assert national.records == 1 and national.changes >= 1
        for policy in ("national", "sesame"):
            rewritten = {s for r in done.refreshed if r.policy == policy for s in r.affected}
            assert compare(engine, policy, rewritten) == []
        assert catch_up(engine, village) is None  # idempotent
        with engine.connect() as conn:
            mother = find_subject(conn, MOTHER).id
            made = conn.execute(
                sa.select(notices.c.kind, notices.c.topic, notices.c.evaluation_id).where(
                    notices.c.subject_id == mother
                )
            ).all()
            evaluation = latest_evaluation(conn, "national").id
            logged = conn.execute(
                sa.select(refreshes.c.decided).where(refreshes.c.evaluation_id == evaluation)
            ).scalar_one()
        assert ("measure_applied", "flight_ban", evaluation) in made
        assert mother in logged and mother in national.affected
    finally:
        engine.dispose()


def test_scs_refresh_prints_what_it_refreshed(village: Settings) -> None:
    assert "nothing to refresh" in scs(village, "refresh")
    engine = create_engine(village)
    try:
        ingest_batch(engine, "court", [LISTING])
    finally:
        engine.dispose()
    said = scs(village, "refresh")
    assert "national: evaluation" in said and "1 new records" in said, said


def test_the_gate_flips_after_post_records_in_a_served_app(village: Settings) -> None:
    engine = create_engine(village)
    keys = mint_keys(engine, MOTHER)
    with engine.connect() as conn:
        serving = latest_evaluation(conn, "national").id
    app = create_app(village, engine)
    refresher = start_refresher(app)
    try:
        with TestClient(app) as client:
            gate = f"/v1/measures/flight_ban/check?subject={quote(MOTHER)}"
            airline = {"Authorization": f"Bearer {keys['relying_party']}"}
            before = client.get(gate, headers=airline)
            assert before.status_code == 200 and before.json()["applies"] is False
            posted = client.post(
                "/v1/records",
                json={"source": "court", "records": [LISTING]},
                headers={"Authorization": f"Bearer {keys['operator']}"},
            )
            assert posted.status_code == 200 and posted.json()["accepted"] == 1, posted.text
            deadline = time.monotonic() + 60
            answer = client.get(gate, headers=airline).json()
            while not answer["applies"] and time.monotonic() < deadline:
                time.sleep(0.05)
                answer = client.get(gate, headers=airline).json()
            assert answer["applies"], answer
            assert answer["reasons"] == ["on_list:dishonest_judgment_debtors"]
            with engine.connect() as conn:  # refreshed in place: no evaluation was run
                assert latest_evaluation(conn, "national").id == serving
    finally:
        refresher.stop()
        engine.dispose()


def _explained(engine: sa.Engine, identifier: str, policy: str) -> tuple[str | None, bool]:
    with engine.connect() as conn:
        document = report_document(explain_subject(conn, identifier, policy))
    return document["as_of"], bool(document["reproduced"])


def test_after_a_refresh_on_a_later_day_explain_reproduces_refreshed_and_untouched_rows(
    village: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh a month after the run evaluates the subjects it rewrites at its own instant,
    and says so per subject (`subject_instants`); the others keep the run's instant. `scs
    explain` of either reproduces its stored rows (moving the whole evaluation's as_of to the
    refresh would make every untouched row unreproducible: decay moved meanwhile)."""
    engine = create_engine(village)
    try:
        monkeypatch.setenv("SCS_NOW", "2026-07-01T00:00:00Z")
        assert ingest_batch(engine, "court", [LISTING]).accepted == 1
        done = catch_up(engine, village, data_cache=LiveData(village))
        assert done is not None
        rewritten = {s for r in done.refreshed if r.policy == "sesame" for s in r.affected}
        with engine.connect() as conn:
            evaluation = latest_evaluation(conn, "sesame")
            assert evaluation.as_of.isoformat().startswith("2026-06-01")
            scored = conn.execute(
                sa.select(identifiers.c.identifier)
                .join(outcome_scores, outcome_scores.c.subject_id == identifiers.c.subject_id)
                .where(
                    outcome_scores.c.evaluation_id == evaluation.id,
                    outcome_scores.c.subject_id.not_in(sorted(rewritten)),
                )
                .limit(1)
            ).scalar_one()
        assert _explained(engine, MOTHER, "sesame") == ("2026-07-01T00:00:00Z", True)
        assert _explained(engine, MOTHER, "national")[0] == "2026-07-01T00:00:00Z"
        assert _explained(engine, scored, "sesame") == ("2026-06-01T00:00:00Z", True)
    finally:
        engine.dispose()


def test_a_run_given_its_own_as_of_keeps_it_through_refreshes(
    village: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scs evaluate --as-of` (a day in the past, as the demo does) makes a current evaluation
    pinned to that day: refreshes count what arrives later for that day, and only known_at
    moves."""
    monkeypatch.setenv("SCS_NOW", "2026-06-10T00:00:00Z")
    scs(village, "evaluate", "--as-of", "2026-06-05")
    engine = create_engine(village)
    try:
        monkeypatch.setenv("SCS_NOW", "2026-06-12T00:00:00Z")
        assert ingest_batch(engine, "court", [LISTING]).accepted == 1
        done = catch_up(engine, village, data_cache=LiveData(village))
        assert done is not None and not done.rebased
        with engine.connect() as conn:
            national = latest_evaluation(conn, "national")
            assert not national.follows_clock
            mother = find_subject(conn, MOTHER).id
            instant = subject_instant(conn, national, mother)
            banned = conn.execute(
                sa.select(sa.func.count()).where(
                    decisions.c.evaluation_id == national.id,
                    decisions.c.subject_id == mother,
                    decisions.c.measure == "flight_ban",
                )
            ).scalar_one()
        assert [i.isoformat()[:10] for i in instant] == ["2026-06-05", "2026-06-12"]
        assert banned == 1  # the listing of 1 May counts as of 5 June, though it came later
        assert _explained(engine, MOTHER, "sesame") == ("2026-06-05T00:00:00Z", True)
    finally:
        engine.dispose()
