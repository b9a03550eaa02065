"""Hostile bodies (issue 21, items 1 and 2): a malformed policy is a 422 that names the place,
never a 500 with a traceback in the log; a JSON `true` is not a number or a year over HTTP
either, as it is not in a JSON Lines file; and nothing a refused request sends is stored."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.policy.load import MAX_DOCUMENT_BYTES, _load
from socialcredit.store.schema import records, relationships, subjects
from tests.api.conftest import SOURCE, World
from tests.policy.test_hostile import alias_bomb, nested_nots


def count(world: World, table: sa.Table) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(
    ("document", "field", "fragment"),
    [
        ("? [a]\n: 1\n", "line 1, column 3", "not a list or a mapping"),
        ("[" * 2000 + "]" * 2000, "line 1, column 1001", "nesting depth"),
        ("[" * 2000, "line 1, column 1001", "nesting depth"),
        (nested_nots(40), "line 42, column 65", "nested more than 32 levels deep"),
        (alias_bomb(24), "line 12, column 18", "anchor &a0 refused"),
        ("policy: 2026-13-45\n", "line 1, column 9", "month must be in 1..12"),
        ("policy: 1" + "0" * 5000 + "\n", "line 1, column 9", "(4300 digits)"),
        ("policy: !!python/name:os.system\n", "line 1, column 9", "is not allowed"),
    ],
)
def test_a_malformed_policy_is_a_422_naming_the_place(
    demo: World, caplog: pytest.LogCaptureFixture, document: str, field: str, fragment: str
) -> None:
    headers = {**demo.headers("admin"), "content-type": "application/json"}
    body = json.dumps({"document": document})
    with caplog.at_level(logging.WARNING):
        response = demo.client.post("/v1/policies", content=body, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_policy"
    assert error["details"][0]["field"] == field
    assert fragment in error["details"][0]["reason"]
    assert caplog.records == []  # nothing logged: no traceback, once or twice


def test_a_lone_surrogate_is_refused_with_the_body(demo: World) -> None:
    headers = {**demo.headers("admin"), "content-type": "application/json"}
    body = json.dumps({"document": "policy: te\ud800st\n"})  # ASCII: the surrogate escaped
    response = demo.client.post("/v1/policies", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.document"


def test_a_policy_larger_than_the_limit_is_refused_unparsed(demo: World) -> None:
    document = "policy: p\n" + "#" * MAX_DOCUMENT_BYTES
    response = demo.client.post(
        "/v1/policies", json={"document": document}, headers=demo.headers("admin")
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.document"


def record(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "record_id": "hostile-1",
        "subject": world.own,
        "type": "finance.payment.late",
        "occurred_at": "2026-01-02",
        **extra,
    }


@pytest.mark.parametrize("value", [True, False, "12.5", [1]])
def test_a_record_value_takes_only_a_number(demo: World, value: object) -> None:
    before = count(demo, records)
    response = demo.client.post(
        "/v1/records", json={"records": [record(demo, value=value)]}, headers=demo.headers("source")
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "body.records.0.value"
    assert count(demo, records) == before


def test_a_number_past_pythons_digit_limit_is_a_4xx(demo: World) -> None:
    body = json.dumps({"records": [record(demo, value=0)]}).replace(
        '"value": 0', '"value": 1' + "0" * 5000
    )
    response = demo.client.post(
        "/v1/records",
        content=body,
        headers={**demo.headers("source"), "content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/subjects",
            {"subjects": [{"identifier": "ext:t", "kind": "person", "name": "T", "born": True}]},
            "body.subjects.0.born",
        ),
        (
            "/v1/subjects",
            {"subjects": [{"identifier": "ext:t", "kind": "person", "name": "T", "born": 1990.5}]},
            "body.subjects.0.born",
        ),
        (
            "/v1/relationships",
            {
                "relationships": [
                    {"from": "ext:a", "to": "ext:b", "kind": "contact", "weight": True}
                ]
            },
            "body.relationships.0.weight",
        ),
        ("/v1/evaluations", {"policies": "national"}, "body.policies"),
    ],
)
def test_registry_bodies_are_strict(demo: World, path: str, body: object, field: str) -> None:
    before = (count(demo, subjects), count(demo, relationships))
    response = demo.client.post(path, json=body, headers=demo.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field
    assert (count(demo, subjects), count(demo, relationships)) == before


def test_a_whole_number_is_still_a_number(demo_copy: World) -> None:
    response = demo_copy.client.post(
        "/v1/records",
        json={"source": SOURCE, "records": [record(demo_copy, value=3)]},
        headers=demo_copy.headers("admin"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    with demo_copy.engine.connect() as conn:
        stored = conn.execute(
            sa.select(records.c.value).where(records.c.record_id == "hostile-1")
        ).scalar_one()
    assert stored == 3.0


def test_reading_the_public_lists_parses_no_policy_again(demo: World) -> None:
    """`GET /v1/lists` read and parsed every policy in force on every request (about 250 ms
    anonymous); a valid document is now parsed once per process."""
    assert demo.client.get("/v1/lists").status_code == 200
    before = _load.cache_info()
    assert demo.client.get("/v1/lists").status_code == 200
    after = _load.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits
