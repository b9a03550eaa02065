"""The answers given before FastAPI's routes or around them (a body over the limit, a rate
limit, an internal error) speak the reader's language too."""

from __future__ import annotations

from fastapi.testclient import TestClient

from socialcredit.api import create_app
from tests.web.conftest import Site

CHINESE = {"Accept-Language": "zh-CN"}


def test_a_body_over_the_limit_is_refused_in_the_reader_s_language(site: Site) -> None:
    app = create_app(site.settings.model_copy(update={"max_body_bytes": 64}), site.engine)
    client = TestClient(app)
    answer = client.post("/v1/ingest/x", content=b"x" * 1000, headers=CHINESE)
    assert answer.status_code == 413
    assert answer.headers["Content-Language"] == "zh-CN"
    assert answer.json()["error"]["message"] == "请求正文超过 64 字节"


def test_a_rate_limit_is_told_in_the_reader_s_language(site: Site) -> None:
    app = create_app(site.settings.model_copy(update={"rate_anonymous": "1/minute"}), site.engine)
    client = TestClient(app)
    client.get("/v1/lists", headers=CHINESE)
    answer = client.get("/v1/lists", headers=CHINESE)
    assert answer.status_code == 429
    assert answer.headers["Content-Language"] == "zh-CN"
    assert answer.json()["error"]["message"].startswith("请求过于频繁")


def test_an_internal_error_is_told_in_the_reader_s_language(site: Site) -> None:
    app = create_app(site.settings, site.engine)

    @app.api.get("/v1/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    answer = TestClient(app, raise_server_exceptions=False).get("/v1/broken", headers=CHINESE)
    assert answer.status_code == 500
    assert answer.headers["Content-Language"] == "zh-CN"
    assert answer.json()["error"]["message"] == "内部错误，已记录"


def test_static_files_do_not_vary_by_language(site: Site) -> None:
    answer = site.client().get("/static/site.css", headers=CHINESE)
    assert answer.status_code == 200
    assert "Content-Language" not in answer.headers
    assert "Accept-Language" not in answer.headers.get("Vary", "")
