from __future__ import annotations

import pytest

from socialcredit.i18n import Message, localize, text, use
from socialcredit.i18n.languages import (
    environment_language,
    language_of,
    negotiate,
    parse_accept_language,
)


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("zh-Hans-SG", "zh-CN"),
        ("zh_CN.UTF-8", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh-TW", None),
        ("zh-Hant", None),
        ("zh-HK", None),
        ("en", "en"),
        ("en-GB", "en"),
        ("en_US.UTF-8", "en"),
        ("fr", None),
        ("C", None),
        ("", None),
        (None, None),
    ],
)
def test_language_of(tag: str | None, language: str | None) -> None:
    assert language_of(tag) == language


def test_accept_language_ranks_by_quality_then_order() -> None:
    assert parse_accept_language("fr;q=0.9, zh-TW, zh;q=0.8, en;q=0.5") == [
        "zh-TW",
        "fr",
        "zh",
        "en",
    ]
    assert parse_accept_language("en;q=0, zh;q=bad, , fr") == ["fr"]


def test_negotiation_order() -> None:
    assert negotiate(None, None, None) == "en"
    assert negotiate(None, None, "zh-TW, zh-CN;q=0.5") == "zh-CN"
    assert negotiate(None, None, "fr, de") == "en"
    assert negotiate(None, "zh-CN", "en") == "zh-CN"  # the switcher's cookie beats the header
    assert negotiate("en", "zh-CN", "zh") == "en"  # ?lang= beats both
    assert negotiate("klingon", "zh-CN", "en") == "zh-CN"  # an unknown ?lang= chooses nothing


def test_message_is_english_text_translated_where_shown() -> None:
    message = Message("Log in")
    assert message == "Log in"
    assert isinstance(message, str)
    with use("zh-CN"):
        assert localize(message) == "登录"
        assert localize("a plain string") == "a plain string"
    with use("en"):
        assert localize(message) == "Log in"


def test_policy_text_picks_the_language() -> None:
    both = {"en": "Late payment", "zh-CN": "逾期还款"}
    with use("zh-CN"):
        assert text(both) == "逾期还款"
        assert text({"en": "Only English"}) == "Only English"
        assert text("plain") == "plain"
        assert text(None) == ""
    assert text(both) == "Late payment"
    assert text({"zh-Hans": "简体"}, "zh-CN") == "简体"
    assert text({"zh-CN": "只有中文"}, "en") == "只有中文"


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANGUAGE": "fr:zh_CN", "LANG": "en_US.UTF-8"}, "zh-CN"),  # LANGUAGE is a list
        ({"LANGUAGE": "fr", "LANG": "zh_CN.UTF-8"}, "zh-CN"),  # none served: the locale
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL before LANG
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_environment_language(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], language: str
) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert environment_language() == language
