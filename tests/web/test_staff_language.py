"""The public and staff pages, and the shared shell, in both languages: every page a visitor,
an operator or a reviewer reads is in Chinese when asked for (`Accept-Language: zh-CN`), says
so in `<html lang>`, and keeps none of its English sentences; in English nothing changed."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Site

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def body_of(html: str) -> str:
    """The page's text between its tags (what a person reads; no attributes, no scripts)."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def both(client: TestClient, path: str, status: int = 200) -> tuple[str, str]:
    """The page in English and in Chinese (checking each says which it is)."""
    english = client.get(path, headers={**EN, "Accept": "text/html"})
    chinese = client.get(path, headers={**ZH, "Accept": "text/html"})
    assert english.status_code == chinese.status_code == status, chinese.text[:500]
    assert '<html lang="en">' in english.text
    assert '<html lang="zh-CN">' in chinese.text
    assert chinese.headers["Content-Language"] == "zh-CN"
    return english.text, chinese.text


# (role, path, a sentence of the English page, the same in Chinese)
PAGES = [
    ("anonymous", "/", "Open, auditable social credit", "公开、可审计的社会信用"),
    ("anonymous", "/login", "Your key is not kept in the browser", "浏览器不会保存您的密钥"),
    ("operator", "/dashboard", "The current evaluation of each policy in force.", "现行政策"),
    ("operator", "/dashboard?policy=national", "Measures in force, by authority", "现行措施"),
    ("auditor", "/dashboard", "Auditors see aggregates only", "审计员只能查看汇总数据"),
    ("operator", "/queue", "Every open case, soonest due first", "全部未结案件"),
    ("reviewer", "/review", "Open appeals and credit repair applications", "未结的申诉"),
]


@pytest.mark.parametrize(("role", "path", "english", "chinese"), PAGES)
def test_each_page_speaks_chinese_when_asked(
    site: Site, role: str, path: str, english: str, chinese: str
) -> None:
    en, zh = both(site.client(role), path)
    assert english in body_of(en)
    assert chinese in body_of(zh)
    assert english not in body_of(zh)


def test_the_header_names_the_role_as_a_word(site: Site) -> None:
    roles = {"admin": "管理员", "operator": "操作员", "reviewer": "复核员", "auditor": "审计员"}
    for role, word in roles.items():
        page = site.client(role).get("/lists", headers=ZH)
        assert re.search(rf'class="whoami"[^>]*>{word}</span>', page.text), role
    english = site.client("admin").get("/lists", headers=EN)
    assert re.search(r'class="whoami"[^>]*>Administrator</span>', english.text)


def test_the_dashboard_in_chinese_has_no_english_labels_left(site: Site) -> None:
    _, zh = both(site.client("admin"), "/dashboard?policy=rongcheng")
    text = body_of(zh)
    for english in ("Score distribution", "subjects scored", "Lowest scores", "as of"):
        assert english not in text
    assert "分数分布" in text and "分数最低" in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)  # dates per language
    assert 'aria-label="政策"' in zh and 'placeholder="查找信息主体：cn-rid:…"' in zh


def test_the_login_error_is_in_chinese(site: Site) -> None:
    client = TestClient(site.app, raise_server_exceptions=False)
    empty = client.post("/login", data={"key": " "}, headers=ZH)
    assert empty.status_code == 401 and "请输入密钥。" in empty.text
    wrong = client.post("/login", data={"key": "scs_nothing_wrong"}, headers=ZH)
    assert wrong.status_code == 401
    assert "该密钥无法使用：API 密钥无效。" in wrong.text
    assert "does not work" not in wrong.text
    english = client.post("/login", data={"key": "scs_nothing_wrong"}, headers=EN)
    assert "That key does not work: the API key is not valid." in english.text


def test_a_revoked_key_is_refused_in_chinese_and_named(site: Site) -> None:
    key = site.keys["revoked"]
    assert key is not None
    client = TestClient(site.app, raise_server_exceptions=False)
    refused = client.post("/login", data={"key": key}, headers=ZH)
    prefix = key.split("_")[1]
    assert refused.status_code == 401 and f"API 密钥 {prefix} 已被吊销" in refused.text


def test_a_key_without_pages_is_told_in_chinese(site: Site) -> None:
    client = TestClient(site.app, raise_server_exceptions=False)
    answer = client.post("/login", data={"key": site.keys["relying_party"]}, headers=ZH)
    assert answer.status_code == 200 and '<html lang="zh-CN">' in answer.text
    text = body_of(answer.text)
    assert "此密钥的角色是“信用信息使用方”" in text and "准入核查" in text
    assert "It works with the API" not in text


def test_error_pages_are_in_chinese(site: Site) -> None:
    en, zh = both(site.client("anonymous"), "/nowhere", 404)
    assert "There is no page here." in en and "此地址没有页面。" in zh
    assert "<title>未找到 · socialcredit</title>" in zh
    _, refused = both(site.client("subject"), "/dashboard", 403)
    assert "<h1>无权访问</h1>" in refused and "您的密钥无权访问本页" in refused
    _, login = both(site.client("anonymous"), "/queue", 401)
    assert "请登录后查看本页。" in login
    _, unknown = both(site.client("operator"), "/dashboard?policy=nope", 404)
    assert "<h1>未找到</h1>" in unknown
    _, bad = both(site.client("operator"), "/dashboard?policy=", 422)
    assert "<h1>无法识别的请求</h1>" in bad and "policy：至少需要 1 个字符" in bad


def test_the_review_pages_in_chinese(writable: Site) -> None:
    subject = writable.client("subject")
    body = {"policy": "national", "measure": "flight_ban", "cause": "", "grounds": "wrong"}
    filed = subject.post("/me/appeal", data=body, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    case = int(filed.headers["location"].rsplit("/", 1)[1])
    reviewer = writable.client("reviewer")
    en, zh = both(reviewer, "/review")
    assert "appeal of flight_ban (national)" in en
    assert "对 flight_ban 的申诉（national）" in zh
    en, zh = both(reviewer, f"/review/appeals/{case}")
    assert "Uphold: the measure stays" in en and "Why it applies" in en
    text = body_of(zh)
    assert "维持：措施继续实施" in text and "适用原因" in text and "处理中" in text
    for english in ("Uphold", "Why it applies", "Record the decision", "Filed"):
        assert english not in text
    assert f"<title>申诉 {case} · socialcredit</title>" in zh
    queue = writable.client("operator").get("/queue", headers=ZH)
    assert f"申诉 {case}</a>" in queue.text and "对 flight_ban 的申诉（national）" in queue.text
