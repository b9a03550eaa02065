"""The subject's portal and its due process speak Simplified Chinese to a reader who asks for
it: every page says `<html lang="zh-CN">`, shows its own texts in Chinese and none of its key
English sentences; a service's refusal (a `Message`) is shown in Chinese on the page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Site
from tests.web.test_objection_pages import SAME_SITE, _record_of

ZH = {"Accept-Language": "zh-CN"}


def _chinese(client: TestClient, url: str, present: list[str], absent: list[str]) -> str:
    page = client.get(url, headers=ZH)
    assert page.status_code == 200, (url, page.text[:300])
    assert '<html lang="zh-CN">' in page.text
    assert page.headers["Content-Language"] == "zh-CN"
    for text in present:
        assert text in page.text, (url, text)
    for text in absent:
        assert text not in page.text, (url, text)
    return page.text


@pytest.mark.parametrize(
    ("url", "present", "absent"),
    [
        (
            "/me",
            ["我的数据", "我的告知书", "我的记录", "我的异议", "本系统掌握的关于您的信息"],
            ["My notices", "What this system holds about you", "My objections", "newest first"],
        ),
        (
            "/me/report",
            ["降低分数最多的因素", "该分数", "异议：记录的报送机构须在"],
            ["What lowered the score most", "Higher than", "Objections: the source"],
        ),
        ("/me/records", ["我的记录", "最新的在前"], ["My records", "Every record sources sent"]),
        (
            "/me/appeal?policy=national&measure=flight_ban",
            ["申诉一项决定", "您申请人工复核以下决定", "提交申诉"],
            ["Appeal a decision", "You ask a person", "File the appeal"],
        ),
        (
            "/me/repair?policy=national&list=dishonest_judgment_debtors",
            ["申请信用修复", "修复条件", "您已在名单上至少"],
            ["Apply for credit repair", "The terms", "You have been on the list"],
        ),
        (
            "/me/objections/new",
            ["对记录提出异议", "错误原因", "证明材料"],
            ["Object to a record", "Why it is wrong", "Say why the record is wrong"],
        ),
    ],
)
def test_each_portal_page_speaks_chinese(
    site: Site, url: str, present: list[str], absent: list[str]
) -> None:
    _chinese(site.client("subject"), url, present, absent)


def test_the_same_pages_stay_english_by_default(site: Site) -> None:
    client = site.client("subject")
    me = client.get("/me", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in me.text and "My notices" in me.text
    assert "我的告知书" not in me.text
    # The notice about the subject's flight ban, in English words, with how to contest it.
    assert "now applies to you" in me.text and "Appeal action in your portal" in me.text


def test_notices_on_the_portal_are_in_the_reader_s_language(site: Site) -> None:
    page = _chinese(
        site.client("subject"),
        "/me",
        ["现已适用于您", "如需人工复核本措施", "请在个人页面中点击该记录旁的“提出异议”"],
        ["now applies to you", "Appeal action in your portal", "Respond by"],
    )
    assert "对您不利" in page


def test_a_refusal_is_shown_in_chinese(site: Site) -> None:
    client = site.client("subject")
    form = client.get("/me/appeal?policy=national&measure=flight_ban", headers=ZH)
    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.text))
    blank = client.post(
        "/me/appeal", data={**fields, "grounds": "   "}, headers=ZH, follow_redirects=False
    )
    assert blank.status_code == 422 and 'role="alert"' in blank.text
    assert "您的申诉未能提交：理由：为必填项：请用文字说明理由" in blank.text
    assert "is required" not in blank.text
    unknown = client.get("/me/repair?policy=national&list=nope", headers=ZH)
    assert unknown.status_code == 404
    assert "您的申请未能提交：政策 national 没有名单 &#39;nope&#39;" in unknown.text
    english = client.get("/me/repair?policy=national&list=nope")
    assert "Your application was not filed: policy national has no list &#39;nope&#39;" in (
        english.text
    )


def test_case_pages_speak_chinese(writable: Site) -> None:
    """An objection and an appeal filed from the portal, each followed on its page."""
    subject = writable.client("subject")
    record = _record_of(writable, writable.own)
    filed = subject.post(
        "/me/objections",
        data={"record": record, "grounds": "已按时还款。"},
        headers={**SAME_SITE, **ZH},
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    _chinese(
        subject,
        filed.headers["location"],
        ["状态：处理中", "报送机构须在", "处理进程", "记录有异议", "报送机构须在此之前答复"],
        ["State: open", "must answer by", "Timeline", "the record is suppressed"],
    )
    again = subject.post(
        "/me/objections",
        data={"record": record, "grounds": "再次提出"},
        headers={**SAME_SITE, **ZH},
    )
    assert again.status_code == 409 and f"记录 {record} 已有异议" in again.text

    form = subject.get("/me/appeal?policy=national&measure=flight_ban")
    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.text))
    appealed = subject.post(
        "/me/appeal", data={**fields, "grounds": "我没有去过那里"}, follow_redirects=False
    )
    assert appealed.status_code == 303, appealed.text
    _chinese(
        subject,
        appealed.headers["location"],
        ["申诉 ", "已提交申诉", "复核人应作出决定", "尚未决定", "返回我的数据"],
        ["appeal filed", "decision is due", "not decided yet", "Back to my data"],
    )
    listed = _chinese(subject, "/me", ["我的申诉和申请", "对“flight ban”的申诉"], ["Appeal of"])
    assert "处理中" in listed
