"""Pages and the API answer in the request's language and say so."""

from __future__ import annotations

from tests.web.conftest import Site


def test_pages_follow_accept_language_and_say_so(site: Site) -> None:
    client = site.client()
    english = client.get("/lists", headers={"Accept-Language": "fr, en;q=0.5"})
    assert english.headers["Content-Language"] == "en"
    assert '<html lang="en">' in english.text
    assert "Accept-Language" in english.headers["Vary"]
    assert "Cookie" in english.headers["Vary"]

    chinese = client.get("/lists", headers={"Accept-Language": "zh-Hans-CN,zh;q=0.9"})
    assert chinese.headers["Content-Language"] == "zh-CN"
    assert '<html lang="zh-CN">' in chinese.text
    assert "公示名单" in chinese.text
    assert "set-cookie" not in chinese.headers  # the header is not a choice to remember


def test_the_switcher_remembers_the_choice(site: Site) -> None:
    client = site.client()
    page = client.get("/lists")
    assert 'href="/lists?lang=zh-CN"' in page.text  # the switcher, a plain link
    chosen = client.get("/lists?lang=zh-CN", headers={"Accept-Language": "en"})
    assert chosen.headers["Content-Language"] == "zh-CN"
    assert "scs_lang=zh-CN" in chosen.headers["set-cookie"]
    again = client.get("/lists", headers={"Accept-Language": "en"})
    assert again.headers["Content-Language"] == "zh-CN"  # the cookie beats the header


def test_the_api_says_its_language(site: Site) -> None:
    client = site.client()
    answer = client.get("/healthz", headers={"Accept-Language": "zh"})
    assert answer.headers["Content-Language"] == "zh-CN"
    assert "Accept-Language" in answer.headers["Vary"]
