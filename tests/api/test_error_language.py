"""The JSON error's human-readable parts (`message`, each detail's `reason`) are in the
negotiated language; the machine parts (`code`, each detail's `field`) never change."""

from __future__ import annotations

from tests.api.conftest import World

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def test_a_404_is_explained_in_chinese(demo: World) -> None:
    chinese = demo.client.get("/v1/nothing-here", headers={**demo.headers("admin"), **ZH})
    english = demo.client.get("/v1/nothing-here", headers={**demo.headers("admin"), **EN})
    assert chinese.status_code == english.status_code == 404
    assert chinese.headers["Content-Language"] == "zh-CN"
    assert chinese.json()["error"]["code"] == english.json()["error"]["code"] == "not_found"
    assert chinese.json()["error"]["message"] == "未找到"
    assert english.json()["error"]["message"] == "Not Found"


def test_a_validation_error_is_explained_in_chinese(demo: World) -> None:
    chinese = demo.client.get("/v1/audit?limit=0", headers={**demo.headers("admin"), **ZH})
    english = demo.client.get("/v1/audit?limit=0", headers={**demo.headers("admin"), **EN})
    assert chinese.status_code == english.status_code == 422
    zh, en = chinese.json()["error"], english.json()["error"]
    assert zh["code"] == en["code"] == "invalid_input"
    assert zh["message"] == "query.limit：不得小于 1"
    assert en["message"] == "query.limit: must be at least 1"
    assert [d["field"] for d in zh["details"]] == [d["field"] for d in en["details"]]
    assert zh["details"][0]["reason"] == "不得小于 1"


def test_a_missing_field_names_it_in_both_languages(demo: World) -> None:
    body = {"subjects": [{"identifier": "ext:x", "kind": "person"}]}
    chinese = demo.client.post("/v1/subjects", json=body, headers={**demo.headers("admin"), **ZH})
    assert chinese.status_code == 422
    reasons = {d["field"]: d["reason"] for d in chinese.json()["error"]["details"]}
    assert reasons["body.subjects.0.name"] == "必须填写"


def test_a_refused_key_is_explained_in_chinese(demo: World) -> None:
    wrong = {"Authorization": "Bearer scs_x_y", **ZH}
    answer = demo.client.get("/v1/evaluations", headers=wrong)
    assert answer.status_code == 401
    assert answer.json()["error"] == {
        "code": "unauthenticated",
        "message": "API 密钥无效",
        "details": None,
    }
    english = demo.client.get("/v1/evaluations", headers={**wrong, **EN})
    assert english.json()["error"]["message"] == "the API key is not valid"
