"""The gate check's fast path (`api.gate.FastGate`) answers exactly what the CLI path
(`gate.check_measure`) answers, picks up a new evaluation after its refresh interval, stops
honouring a revoked key after the key cache's ttl, and logs every check.

Time is simulated (the modules' `time` is replaced by a clock the test advances), so nothing
here waits.
"""

from __future__ import annotations

import sqlite3
import threading
import types
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

import socialcredit.outcomes.gate
import socialcredit.sharing.keys
from socialcredit.api.errors import status_of
from socialcredit.errors import SocialCreditError
from socialcredit.outcomes.gate import check_measure
from socialcredit.sharing.keys import revoke_key
from socialcredit.store.schema import audit_log, decisions, evaluations, identifiers
from tests.api.conftest import World


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock()
    fake = types.SimpleNamespace(monotonic=found.monotonic)
    monkeypatch.setattr(socialcredit.outcomes.gate, "time", fake)
    monkeypatch.setattr(socialcredit.sharing.keys, "time", fake)
    return found


def cli_answer(world: World, measure: str, subject: str) -> tuple[int, Any]:
    with world.engine.connect() as conn:
        try:
            return 200, check_measure(conn, measure, subject)
        except SocialCreditError as error:
            return status_of(error), error.code


def api_answer(world: World, measure: str, subject: str, caller: str = "admin") -> tuple[int, Any]:
    response = world.client.get(
        f"/v1/measures/{measure}/check?subject={quote(subject)}", headers=world.headers(caller)
    )
    body = response.json()
    return response.status_code, body if response.status_code == 200 else body["error"]["code"]


def single_policy_measures(world: World) -> list[str]:
    """The measures declared by exactly one policy (the others need a policy named)."""
    with world.engine.connect() as conn:
        rows = conn.execute(
            sa.select(evaluations.c.policy_name, decisions.c.measure)
            .join(evaluations, evaluations.c.id == decisions.c.evaluation_id)
            .distinct()
        ).all()
    owners: dict[str, set[str]] = {}
    for policy, measure in rows:
        owners.setdefault(measure, set()).add(policy)
    return sorted(m for m, p in owners.items() if len(p) == 1)


def test_the_fast_path_answers_what_the_cli_answers(demo: World) -> None:
    with demo.engine.connect() as conn:
        current = sa.select(evaluations.c.id).where(evaluations.c.current)
        decided = conn.execute(
            sa.select(evaluations.c.policy_name, decisions.c.measure, identifiers.c.identifier)
            .join(identifiers, identifiers.c.subject_id == decisions.c.subject_id)
            .join(evaluations, evaluations.c.id == decisions.c.evaluation_id)
            .where(identifiers.c.ordinal == 0, decisions.c.evaluation_id.in_(current))
            .distinct()
            .order_by(decisions.c.measure, identifiers.c.identifier)
        ).all()
        everyone = list(
            conn.execute(
                sa.select(identifiers.c.identifier)
                .where(identifiers.c.ordinal == 0)
                .order_by(identifiers.c.subject_id)
            ).scalars()
        )
    measures = single_policy_measures(demo)
    # Every subject with a decision under the national pack (the joint punishments, collateral
    # ones included), and every 80th of the others' (thousands of privileges, the same code).
    national = [(m, s) for p, m, s in decided if m in measures and p == "national"]
    others = [(m, s) for p, m, s in decided if m in measures and p != "national"]
    with_decision = national + others[::80]
    assert len(national) > 50
    without = [(m, s) for m in measures for s in everyone[::401]]
    lowered = [(m, s.lower()) for m, s in with_decision[:20]]  # another spelling, same subject
    unknown = [("flight_ban", "ext:nobody-at-all"), ("teleport", everyone[0])]
    seq = demo.audit_seq()
    cases = with_decision + without + lowered + unknown
    for measure, subject in cases:
        assert api_answer(demo, measure, subject) == cli_answer(demo, measure, subject), (
            measure,
            subject,
        )
    applies = [api_answer(demo, m, s)[1]["applies"] for m, s in with_decision[:50]]
    assert all(applies)
    checks = [e for e in demo.audit_after(seq) if e.action == "measure.check"]
    # every check is logged: answered ones as allowed, and those about a subject that is not
    # registered (probing who is) or a measure no policy declares as not_found
    assert len(checks) == len(cases) + len(applies)
    assert all(e.actor == demo.actor("admin") for e in checks)
    outcomes = [e.outcome for e in checks]
    assert outcomes.count("not_found") == len(unknown)
    assert outcomes.count("allowed") == len(checks) - len(unknown)
    assert checks[0].target == " ".join(with_decision[0])


def test_a_measure_in_several_policies_can_be_checked(demo: World) -> None:
    firm = _firm_with(demo, "procurement_exclusion")
    path = f"/v1/measures/procurement_exclusion/check?subject={firm}"
    response = demo.client.get(path, headers=demo.headers("admin"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert "several policies" in response.json()["error"]["message"]


def test_a_measure_in_several_policies_can_be_checked_with_a_policy(demo: World) -> None:
    firm = _firm_with(demo, "procurement_exclusion")
    path = f"/v1/measures/procurement_exclusion/check?subject={firm}&policy=corporate"
    response = demo.client.get(path, headers=demo.headers("admin"))
    assert response.status_code == 200, response.text
    with demo.engine.connect() as conn:
        assert response.json() == check_measure(conn, "procurement_exclusion", firm, "corporate")


def _firm_with(world: World, measure: str) -> str:
    with world.engine.connect() as conn:
        return str(
            conn.execute(
                sa.select(identifiers.c.identifier)
                .join(decisions, decisions.c.subject_id == identifiers.c.subject_id)
                .where(decisions.c.measure == measure, identifiers.c.ordinal == 0)
                .limit(1)
            ).scalar_one()
        )


def test_a_new_evaluation_is_picked_up_after_the_refresh(demo_copy: World, clock: Clock) -> None:
    world = demo_copy
    subject = world.other
    before = api_answer(world, "flight_ban", subject)
    assert before[0] == 200 and before[1]["applies"] is False
    old_policy, as_of = before[1]["policy"], before[1]["as_of"]
    record = {
        "record_id": "gate-test-1",
        "subject": subject,
        "type": "court.dishonest.refuses_to_perform",
        "occurred_at": "2026-10-01",
    }
    posted = world.client.post(
        "/v1/records",
        json={"source": "court", "records": [record]},
        headers=world.headers("operator"),
    )
    assert posted.status_code == 200 and posted.json()["accepted"] == 1, posted.text
    ran = world.client.post(
        "/v1/evaluations",
        json={"policies": ["national"], "as_of": as_of},
        headers=world.headers("operator"),
    )
    assert ran.status_code == 202, ran.text
    job = world.finish(ran.json())
    assert job["state"] == "succeeded", job
    new_id = job["evaluations"][0]["id"]
    stale = api_answer(world, "flight_ban", subject)
    assert stale == before  # within the refresh interval the index may answer from before
    clock.now += world.app.svc.gate.refresh + 0.001
    fresh = api_answer(world, "flight_ban", subject)
    assert fresh == cli_answer(world, "flight_ban", subject)
    assert fresh[1]["applies"] is True
    assert fresh[1]["reasons"] == ["on_list:dishonest_judgment_debtors"]
    assert fresh[1]["since"] == "2026-10-01T00:00:00Z"
    assert fresh[1]["policy"] == old_policy
    with world.engine.connect() as conn:
        logged = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.target).where(
                audit_log.c.action == "evaluation.run"
            )
        ).all()
    assert ("evaluation.run", f"national evaluation {new_id}") in logged


def test_a_revoked_key_stops_working_after_the_ttl(demo_copy: World, clock: Clock) -> None:
    world = demo_copy
    assert api_answer(world, "flight_ban", world.own, "relying_party")[0] == 200
    key = world.keys["relying_party"]
    assert key is not None
    with world.engine.begin() as conn:
        revoke_key(conn, key.split("_")[1])
    # cached: still honoured within the ttl (the documented bound)
    assert api_answer(world, "flight_ban", world.own, "relying_party")[0] == 200
    clock.now += world.app.svc.keys.ttl + 0.001
    assert api_answer(world, "flight_ban", world.own, "relying_party") == (401, "unauthenticated")
    other = world.client.get(f"/v1/subjects/{world.own}", headers=world.headers("relying_party"))
    assert other.status_code == 401


def test_a_check_waits_for_a_busy_store_and_is_still_logged(demo_copy: World) -> None:
    """The audit batch is committed on the event loop only when the write lock is free; while
    another writer holds it, the check waits (in a thread) and answers once its entry is in."""
    database = demo_copy.engine.url.database
    assert database
    blocker = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process writing, e.g. an ingest
    released = threading.Event()

    def release() -> None:
        released.set()
        blocker.execute("COMMIT")

    timer = threading.Timer(0.5, release)
    before = demo_copy.audit_seq()
    timer.start()
    try:
        path = f"/v1/measures/flight_ban/check?subject={quote(demo_copy.own)}"
        response = demo_copy.client.get(path, headers=demo_copy.headers("relying_party"))
        answered_after_release = released.is_set()
    finally:
        timer.join()
        blocker.close()
    assert response.status_code == 200, response.text
    assert answered_after_release
    logged = demo_copy.audit_after(before)
    assert [(e.action, e.outcome) for e in logged] == [("measure.check", "allowed")]


@pytest.mark.parametrize(
    ("subject", "status", "outcome"),
    [("%00", 422, "invalid"), ("cn-rid:garbage", 422, "invalid"), ("ext:nobody", 404, "not_found")],
)
def test_questions_that_get_no_answer_are_logged_too(
    demo: World, subject: str, status: int, outcome: str
) -> None:
    """Probing who is registered leaves a trace; a NUL byte cannot break the log."""
    seq = demo.audit_seq()
    path = f"/v1/measures/flight_ban/check?subject={subject}"
    response = demo.client.get(path, headers=demo.headers("relying_party"))
    assert response.status_code == status, response.text
    logged = demo.audit_after(seq)
    assert [(e.action, e.outcome) for e in logged] == [("measure.check", outcome)]
    assert "\x00" not in logged[0].target


def test_the_answer_names_the_subject_as_asked_and_masks_a_person_who_caused_it(
    demo: World,
) -> None:
    with demo.engine.connect() as conn:
        child = conn.execute(
            sa.select(identifiers.c.identifier)
            .join(decisions, decisions.c.subject_id == identifiers.c.subject_id)
            .join(evaluations, evaluations.c.id == decisions.c.evaluation_id)
            .where(
                evaluations.c.current,
                decisions.c.measure == "private_school_exclusion",
                decisions.c.cause_subject_id != decisions.c.subject_id,
            )
            .limit(1)
        ).scalar()
    assert child is not None, "the demo (seed 7) puts children under collateral exclusions"
    path = f"/v1/measures/private_school_exclusion/check?subject={quote(child.lower())}"
    answer = demo.client.get(path, headers=demo.headers("admin")).json()
    assert answer["subject"] == child  # canonical form of what was asked
    cause = answer["cause_subject"]
    assert cause.startswith("cn-rid:") and "********" in cause
