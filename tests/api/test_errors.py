"""One JSON error shape for every failure, the right status, never a stack trace."""

from __future__ import annotations

import logging

import pytest

import socialcredit.api.routers.policies
from tests.api.conftest import World


def error_of(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/v1/nothing-here", None, 404, "not_found"),
        ("PUT", "/v1/records", None, 405, "method_not_allowed"),
        ("DELETE", "/v1/policies", None, 405, "method_not_allowed"),
        ("GET", "/v1/subjects/cn-rid:11010519491231002X", None, 404, "not_found"),
        ("GET", "/v1/subjects/cn-rid:110105194912310029", None, 422, "invalid_identifier"),
        ("GET", "/v1/subjects/no-scheme", None, 422, "invalid_identifier"),
        ("GET", "/v1/policies/nope", None, 404, "not_found"),
        ("GET", "/v1/lists/not_a_list", None, 404, "not_found"),
        ("GET", "/v1/audit?limit=0", None, 422, "invalid_input"),
        ("GET", "/v1/subjects/cn-rid:11010519491231002X/report", None, 422, "invalid_input"),
        ("GET", "/v1/measures/teleport/check?subject=ext:x", None, 404, "not_found"),
        ("GET", "/v1/measures/flight_ban/check", None, 422, "invalid_input"),
        ("POST", "/v1/records", {"records": []}, 422, "invalid_input"),
        ("POST", "/v1/policies", {"document": "policy: [unclosed"}, 422, "invalid_policy"),
    ],
)
def test_every_failure_has_the_one_shape(
    demo: World, method: str, path: str, body: object, status: int, code: str
) -> None:
    response = demo.client.request(method, path, json=body, headers=demo.headers("admin"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = error_of(response)
    assert error["code"] == code
    assert error["message"]


def test_invalid_input_names_each_field(demo: World) -> None:
    response = demo.client.post(
        "/v1/subjects",
        json={"subjects": [{"identifier": "", "kind": "person"}]},
        headers=demo.headers("admin"),
    )
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert isinstance(details, list)
    fields = {d["field"] for d in details}
    assert {"body.subjects.0.identifier", "body.subjects.0.name"} <= fields


def test_a_401_asks_for_a_bearer_key(demo: World) -> None:
    response = demo.client.get("/v1/evaluations")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    response = demo.client.get("/v1/evaluations", headers={"Authorization": "Bearer scs_x_y"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_an_unexpected_error_is_a_500_without_a_trace(
    demo: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> object:
        raise RuntimeError("secret internal detail at /srv/socialcredit")

    monkeypatch.setattr(socialcredit.api.routers.policies, "list_policies", broken)
    with caplog.at_level(logging.ERROR, logger="socialcredit.api"):
        response = demo.client.get("/v1/policies")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" in caplog.text  # logged for the operator, not sent to the caller


@pytest.mark.parametrize(
    ("path", "caller", "status"),
    [
        ("/v1/records", "anonymous", 401),
        ("/v1/records", "relying_party", 403),
        ("/v1/subjects", "anonymous", 401),
        ("/v1/subjects", "subject", 403),
        ("/v1/relationships", "auditor", 403),
        ("/v1/policies", "anonymous", 401),
        ("/v1/evaluations", "source", 403),
    ],
)
def test_the_caller_is_refused_before_the_body_is_read(
    demo: World, path: str, caller: str, status: int
) -> None:
    """A caller without the right key learns 401/403, not what a valid body looks like."""
    headers = {} if caller == "anonymous" else demo.headers(caller)
    response = demo.client.post(path, json={"not": "a valid body"}, headers=headers)
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == ("unauthenticated" if status == 401 else "forbidden")
