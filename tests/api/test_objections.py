"""Objections over HTTP and the command line, on SQLite and PostgreSQL: the statuses and
messages of item 8 of the due-process issue, each refusal changing nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from socialcredit.api import create_app
from socialcredit.cli import app as cli
from socialcredit.rights.objections import MAX_EVIDENCE_BYTES
from socialcredit.settings import Settings
from socialcredit.sharing.keys import create_key
from socialcredit.store.schema import objections, record_status
from tests.api.conftest import FATHER, REP, build_village

BUILT = "2026-06-30T00:00:00Z"
FILED = "2026-07-01T09:00:00Z"


@pytest.fixture
def api(
    settings: Settings, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    monkeypatch.setenv("SCS_NOW", BUILT)
    build_village(settings)
    with engine.begin() as conn:
        keys = {
            "father": create_key(conn, "subject", subject=FATHER)[0],
            "rep": create_key(conn, "subject", subject=REP)[0],
            "bank": create_key(conn, "source", source="bank")[0],
            "court": create_key(conn, "source", source="court")[0],
            "operator": create_key(conn, "operator")[0],
        }
    monkeypatch.setenv("SCS_NOW", FILED)
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        yield client, {k: {"Authorization": f"Bearer {v}"} for k, v in keys.items()}


def _counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            int(conn.execute(sa.select(sa.func.count()).select_from(objections)).scalar_one()),
            int(conn.execute(sa.select(sa.func.count()).select_from(record_status)).scalar_one()),
        )


def test_objections_over_http(
    api: tuple[TestClient, dict[str, dict[str, str]]],
    engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, h = api
    filed = client.post(
        "/v1/me/objections",
        json={
            "record": "bank/b-1",
            "grounds": "Paid on time",
            "evidence": {"name": "r.txt", "content_base64": base64.b64encode(b"paid").decode()},
        },
        headers=h["father"],
    )
    assert filed.status_code == 200, filed.text
    case = filed.json()
    assert (case["state"], case["due_at"], case["subject"]) == (
        "open",
        "2026-07-21T09:00:00Z",
        FATHER,
    )
    assert case["evidence"]["name"] == "r.txt"
    mine = client.get("/v1/me/objections", headers=h["father"]).json()["objections"]
    assert [o["id"] for o in mine] == [case["id"]]
    before = _counts(engine)
    # Another subject's record, and one that does not exist: the same 403, no hint.
    other = client.post(
        "/v1/me/objections", json={"record": "bank/b-2", "grounds": "x"}, headers=h["father"]
    )
    missing = client.post(
        "/v1/me/objections", json={"record": "bank/zz", "grounds": "x"}, headers=h["father"]
    )
    assert other.status_code == missing.status_code == 403
    assert other.json()["error"]["message"].replace("b-2", "?") == missing.json()["error"][
        "message"
    ].replace("zz", "?")
    again = client.post(
        "/v1/objections",
        json={"record": "bank/b-1", "subject": FATHER, "grounds": "x"},
        headers=h["operator"],
    )
    assert again.status_code == 409
    assert f"already under objection {case['id']}" in again.json()["error"]["message"]
    big = base64.b64encode(b"x" * (MAX_EVIDENCE_BYTES + 1)).decode()
    too_large = client.post(
        "/v1/me/objections",
        json={
            "record": "court/c-1",
            "grounds": "x",
            "evidence": {"name": "a", "content_base64": big},
        },
        headers=h["father"],
    )
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "too_large"
    not_base64 = client.post(
        "/v1/me/objections",
        json={
            "record": "court/c-1",
            "grounds": "x",
            "evidence": {"name": "a", "content_base64": "!!"},
        },
        headers=h["father"],
    )
    assert not_base64.status_code == 422
    assert not_base64.json()["error"]["details"][0]["field"] == "evidence.content_base64"
    assert _counts(engine) == before

    # The bank sees its objection; the court sees none and cannot answer it.
    assert [
        o["id"] for o in client.get("/v1/objections", headers=h["bank"]).json()["objections"]
    ] == [case["id"]]
    assert client.get("/v1/objections", headers=h["court"]).json()["objections"] == []
    evidence = client.get(f"/v1/objections/{case['id']}/evidence", headers=h["bank"])
    assert evidence.status_code == 200 and evidence.content == b"paid"
    assert evidence.headers["content-disposition"] == 'attachment; filename="r.txt"'
    assert (
        client.get(f"/v1/objections/{case['id']}/evidence", headers=h["court"]).status_code == 404
    )
    assert client.get(f"/v1/objections/{case['id']}", headers=h["court"]).status_code == 404
    assert client.get(f"/v1/objections/{case['id']}", headers=h["rep"]).status_code == 404
    refused = client.post(
        f"/v1/objections/{case['id']}/answer", json={"answer": "verified"}, headers=h["court"]
    )
    assert refused.status_code == 404
    assert (
        client.post(
            f"/v1/objections/{case['id']}/answer", json={"answer": "verified"}, headers=h["father"]
        ).status_code
        == 403
    )
    assert _counts(engine) == before

    # The bank answers too late: the record was suppressed, and the 409 says when.
    monkeypatch.setenv("SCS_NOW", "2026-07-21T09:00:00Z")
    late = client.post(
        f"/v1/objections/{case['id']}/answer", json={"answer": "verified"}, headers=h["bank"]
    )
    assert late.status_code == 409
    assert "suppressed at 2026-07-21T09:00:00Z" in late.json()["error"]["message"]
    shown = client.get(f"/v1/objections/{case['id']}", headers=h["father"]).json()
    assert shown["state"] == "suppressed"
    assert [t["status"] for t in shown["timeline"]] == ["disputed", "suppressed"]
    # A suppressed record no longer counts and cannot be objected to again: 409 naming it.
    closed = client.post(
        "/v1/me/objections", json={"record": "bank/b-1", "grounds": "x"}, headers=h["father"]
    )
    assert closed.status_code == 409 and "is suppressed" in closed.json()["error"]["message"]


def test_a_source_answers_in_time(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = api
    case = client.post(
        "/v1/objections",
        json={"record": "court/c-1", "subject": FATHER, "grounds": "Settled"},
        headers=h["operator"],
    ).json()
    bad = client.post(
        f"/v1/objections/{case['id']}/answer", json={"answer": "corrected"}, headers=h["court"]
    )
    assert bad.status_code == 422 and "corrected_by" in bad.json()["error"]["message"]
    done = client.post(
        f"/v1/objections/{case['id']}/answer",
        json={"answer": "retracted", "note": "entered in error"},
        headers=h["court"],
    )
    assert done.status_code == 200 and done.json()["state"] == "retracted"
    again = client.post(
        f"/v1/objections/{case['id']}/answer", json={"answer": "verified"}, headers=h["court"]
    )
    assert (
        again.status_code == 409
        and "already answered retracted" in again.json()["error"]["message"]
    )


def _scs(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        list(args),
        env={
            "SCS_HOME": str(settings.home),
            "SCS_DATABASE_URL": settings.database_url or "",
            "COLUMNS": "200",
        },
    )
    return result.exit_code, result.stdout


def test_the_command_line(
    api: tuple[TestClient, dict[str, dict[str, str]]],
    settings: Settings,
) -> None:
    code, output = _scs(
        settings, "objections", "file", "bank/b-1", "--subject", FATHER, "--grounds", "Paid"
    )
    assert code == 0, output
    objection_id = int(output.strip().splitlines()[-1])  # the id on the last line
    code, output = _scs(settings, "objections", "list", "--open", "--format", "json")
    assert code == 0 and [o["id"] for o in json.loads(output)] == [objection_id]
    code, output = _scs(settings, "objections", "list", "--overdue", "--format", "json")
    assert code == 0 and json.loads(output) == []
    code, output = _scs(settings, "objections", "show", str(objection_id))
    assert code == 0 and "disputed" in output and "2026-07-21T09:00:00Z" in output
    code, _ = _scs(settings, "objections", "answer", str(objection_id), "--verified", "--retracted")
    assert code == 2
    code, output = _scs(
        settings, "objections", "answer", str(objection_id), "--verified", "--note", "ok"
    )
    assert code == 0 and "verified" in output
    code, _ = _scs(
        settings, "objections", "file", "bank/b-2", "--subject", FATHER, "--grounds", "x"
    )
    assert code == 2  # another subject's record
    code, _ = _scs(settings, "objections", "answer", "999", "--verified")
    assert code == 3
