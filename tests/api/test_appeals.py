"""Appeals and credit repair over HTTP: a subject appeals, a reviewer overrides, the gate
honours it within a second; refusals say nothing about other subjects or their cases."""

from __future__ import annotations

import time

import sqlalchemy as sa

from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.schema import appeals, decisions, identifiers
from tests.api.conftest import MEASURE, World


def banned_other(w: World) -> str:
    """Another person with a flight ban of their own, and no open appeal (the demo's tour
    appeals its person's)."""
    with w.engine.connect() as conn:
        return str(
            conn.execute(
                sa.select(identifiers.c.identifier)
                .join(decisions, decisions.c.subject_id == identifiers.c.subject_id)
                .where(
                    decisions.c.evaluation_id == latest_evaluation(conn, "national").id,
                    decisions.c.measure == MEASURE,
                    decisions.c.cause_subject_id == decisions.c.subject_id,
                    identifiers.c.ordinal == 0,
                    identifiers.c.identifier != w.own,
                    identifiers.c.subject_id.not_in(
                        sa.select(appeals.c.subject_id).where(appeals.c.status == "open")
                    ),
                )
                .limit(1)
            ).scalar_one()
        )


def test_an_override_answers_at_the_gate_within_a_second(demo_copy: World) -> None:
    w = demo_copy
    gate = f"/v1/measures/{MEASURE}/check?subject={w.own}"
    assert w.client.get(gate, headers=w.headers("relying_party")).json()["applies"] is True
    body = {"policy": "national", "measure": MEASURE, "grounds": "the listing was revoked"}
    filed = w.client.post("/v1/me/appeals", json=body, headers=w.headers("subject"))
    assert filed.status_code == 200, filed.text
    appeal = filed.json()
    assert (appeal["subject"], appeal["status"], appeal["overdue"]) == (w.own, "open", False)
    again = w.client.post("/v1/me/appeals", json=body, headers=w.headers("subject"))
    assert again.status_code == 409 and f"appeal {appeal['id']}" in again.json()["error"]["message"]
    mine = w.client.get("/v1/me/appeals", headers=w.headers("subject")).json()
    assert [a["id"] for a in mine] == [appeal["id"]]
    decision = {"outcome": "override", "note": "the court revoked the listing"}
    url = f"/v1/appeals/{appeal['id']}/decision"
    refused = w.client.post(url, json=decision, headers=w.headers("subject"))
    assert refused.status_code == 403
    decided = w.client.post(url, json=decision, headers=w.headers("reviewer"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "overridden"
    started = time.monotonic()
    while w.client.get(gate, headers=w.headers("relying_party")).json()["applies"]:
        assert time.monotonic() - started < 1.5, "the gate still applies the measure"
        time.sleep(0.05)
    shown = w.client.get(f"/v1/appeals/{appeal['id']}", headers=w.headers("subject")).json()
    assert shown["decided_by"].startswith("key:") and shown["note"] == decision["note"]


def test_refusals_say_nothing_about_other_subjects(demo_copy: World) -> None:
    w = demo_copy
    body = {"policy": "national", "measure": MEASURE, "grounds": "not me"}
    answers = [
        w.client.post("/v1/appeals", json={**body, "subject": who}, headers=w.headers("subject"))
        for who in (w.other, "ext:nobody-at-all")
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json()["error"]["message"] == answers[1].json()["error"]["message"]
    mine = w.client.post(
        "/v1/appeals", json={**body, "subject": w.own}, headers=w.headers("operator")
    )
    assert mine.status_code == 200, mine.text
    someone = banned_other(w)
    theirs = w.client.post(
        "/v1/appeals", json={**body, "subject": someone}, headers=w.headers("operator")
    )
    assert theirs.status_code == 200, theirs.text
    # A subject asking for another's case and for a missing one is refused alike.
    answers = [
        w.client.get(f"/v1/appeals/{case}", headers=w.headers("subject"))
        for case in (theirs.json()["id"], 999_999)
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json()["error"]["message"] == answers[1].json()["error"]["message"]
    own_case = mine.json()["id"]
    assert w.client.get(f"/v1/appeals/{own_case}", headers=w.headers("subject")).status_code == 200
    assert w.client.get("/v1/appeals/999999", headers=w.headers("reviewer")).status_code == 404
    nothing = w.client.post(
        "/v1/appeals", json={**body, "subject": w.other}, headers=w.headers("operator")
    )
    assert nothing.status_code == 409  # the other subject has no flight ban to appeal
    unknown = w.client.post(
        "/v1/me/appeals", json={**body, "measure": "moon_ban"}, headers=w.headers("subject")
    )
    assert unknown.status_code == 404 and "moon_ban" in unknown.json()["error"]["message"]
    nolist = w.client.post(
        "/v1/me/repair", json={"policy": "national", "list": "nope"}, headers=w.headers("subject")
    )
    assert nolist.status_code == 404 and "'nope'" in nolist.json()["error"]["message"]
    bad = w.client.post(
        f"/v1/appeals/{own_case}/decision",
        json={"outcome": "override", "note": "x", "until": "2000-01-01T00:00:00Z"},
        headers=w.headers("reviewer"),
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "until"
    still = w.client.get(f"/v1/appeals/{own_case}", headers=w.headers("reviewer")).json()
    assert still["status"] == "open"
    # An end date is ISO 8601 text in JSON (the strict models parse it here, and nothing else).
    good = w.client.post(
        f"/v1/appeals/{own_case}/decision",
        json={"outcome": "override", "note": "paid", "until": "2099-01-01T00:00:00Z"},
        headers=w.headers("reviewer"),
    )
    assert good.status_code == 200, good.text
    assert good.json()["status"] == "overridden"
    assert good.json()["until"].startswith("2099-01-01")
