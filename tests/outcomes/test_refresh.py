"""Real-time refreshes on the village (SQLite and PostgreSQL): idempotence, a refresh that never
ran after a commit (the next call catches up), the notices a refresh makes, `scs refresh`, and
in a served app the gate check flipping after `POST /v1/records` with no evaluation run."""

from __future__ import annotations

import time
from urllib.parse import quote

import pyarrow.compute as pc
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.api.app import start_refresher
from socialcredit.engine import EngineData, evaluate
from socialcredit.ingest.batch import ingest_batch
from socialcredit.outcomes.live_data import LiveData
from socialcredit.outcomes.refresh import Refreshed, catch_up
from socialcredit.rights.changes import NoticeRow, add_factors
from socialcredit.rights.reports import explain_subject, report_document
from socialcredit.rights.retention import PURGED
from socialcredit.settings import Settings
from socialcredit.store.db import STORE_LOCK, create_engine, writing
from socialcredit.store.evaluations import latest_evaluation, subject_instant
from socialcredit.store.policies import latest_policies
from socialcredit.store.positions import log_position
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import (
    decisions,
    identifiers,
    notices,
    outcome_scores,
    record_status,
    records,
    refreshes,
)
from socialcredit.store.snapshot import load_inputs, load_records
from socialcredit.timeutil import now
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


def test_the_live_data_holds_the_log_and_forgets_purged_values(village: Settings) -> None:
    """The record log kept in the engine grows by id with the store, gives a refresh the same
    records the store holds, and clears a value when the status log says it was purged."""
    engine = create_engine(village)
    cache = LiveData(village)
    try:
        with engine.connect() as conn:
            cache.advance(conn, log_position(conn))
            mother = find_subject(conn, MOTHER).id
        late = {**LISTING, "record_id": "b-rt-1", "type": "finance.payment.late", "value": 30}
        assert ingest_batch(engine, "bank", [late]).accepted == 1
        with engine.connect() as conn:
            cache.advance(conn, log_position(conn))
            stored = load_records(conn, [mother])
            held = cache.with_records(conn, [mother]).inputs.records
            reader = LiveData(village, hold_log=False)  # a one-off call's: read from the store
            reader.advance(conn, log_position(conn))
            assert reader.with_records(conn, [mother]).inputs.records.equals(stored)
        assert held.equals(stored)
        assert 30.0 in held["value"].to_pylist()
        rid = held.filter(pc.equal(held["record_id"], "b-rt-1"))["rid"][0].as_py()
        with writing(engine, STORE_LOCK) as conn:  # what the retention sweep writes
            conn.execute(records.update().where(records.c.id == rid).values(value=None))
            conn.execute(
                record_status.insert().values(
                    record_pk=rid, status=PURGED, changed_at=now(), reason="test", actor="test"
                )
            )
        with engine.connect() as conn:
            cache.advance(conn, log_position(conn))
            stored = load_records(conn, [mother])
            held = cache.with_records(conn, [mother]).inputs.records
        assert held.equals(stored)
        assert 30.0 not in held["value"].to_pylist()
    finally:
        engine.dispose()


def test_a_refresh_gives_its_notices_the_factors_of_an_explained_evaluation(
    village: Settings,
) -> None:
    """The refresh's own evaluation is explained, and its adverse notices take their factors
    from it: the same factors a second, explained evaluation of each subject gives (the way a
    full run makes them, `rights.changes.add_factors`)."""
    engine = create_engine(village)
    try:
        defaults = [
            {
                "record_id": f"b-rt-d{i}",
                "subject": MOTHER,
                "type": "finance.loan.default",
                "occurred_at": "2026-05-0" + str(i + 1),
                "value": 50_000,
            }
            for i in range(3)
        ]
        assert ingest_batch(engine, "bank", defaults).accepted == 3
        done = catch_up(engine, village, data_cache=LiveData(village))
        assert done is not None and any(r.policy == "sesame" for r in done.refreshed)
        with engine.connect() as conn:
            evaluation = latest_evaluation(conn, "sesame")
            made = conn.execute(
                sa.select(notices.c.subject_id, notices.c.kind, notices.c.topic, notices.c.body)
                .where(notices.c.evaluation_id == evaluation.id, notices.c.adverse)
                .order_by(notices.c.id)
            ).all()
            policy = latest_policies(conn, ["sesame"])[0].policy
            data = EngineData(load_inputs(conn))
        assert made and any(row.body["factors"] for row in made)
        for row in made:
            outcome = evaluate(
                data,
                policy,
                evaluation.as_of,
                evaluation.known_at,
                subjects=[row.subject_id],
                distribution=evaluation.distribution,
            )
            own = row.kind in ("measure_applied", "list_entered", "tier_changed")
            factor = row.subject_id if own and not row.body.get("collateral") else None
            expected = [NoticeRow(row.subject_id, row.kind, row.topic, True, factor)]
            add_factors(data, outcome, expected)  # no contributions: a second evaluation
            assert row.body["factors"] == expected[0].body["factors"], row
    finally:
        engine.dispose()


def test_each_policy_is_committed_and_told_before_the_network_policy_runs(
    village: Settings,
) -> None:
    """The policies without a network are refreshed first, each in its own transaction, and
    `on_commit` is told after each commit: the court record's flight ban is in the store
    (where the gate reads it) before sesame's network refresh starts."""
    engine = create_engine(village)
    told: list[tuple[str, bool]] = []

    def committed(done: Refreshed) -> None:
        with engine.connect() as conn:
            national = latest_evaluation(conn, "national").id
            banned = conn.execute(
                sa.select(decisions.c.id).where(
                    decisions.c.evaluation_id == national,
                    decisions.c.measure == "flight_ban",
                    decisions.c.subject_id == mother,
                )
            ).first()
        told.append((done.policy, banned is not None))

    try:
        with engine.connect() as conn:
            mother = find_subject(conn, MOTHER).id
        assert ingest_batch(engine, "court", [LISTING]).accepted == 1
        done = catch_up(engine, village, data_cache=LiveData(village), on_commit=committed)
        assert done is not None
        assert told == [("national", True), ("sesame", True)]
    finally:
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
