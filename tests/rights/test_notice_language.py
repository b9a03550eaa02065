"""Notices keep their machine data and are read in the reader's language: what a person reads
(headline, reason, how to object or appeal) is written when the notice is shown, in the
language asked for; the webhook sends English with the Chinese beside it (docs/rights.md)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from socialcredit.i18n import Message, use
from socialcredit.rights.delivery import deliver_due
from socialcredit.rights.notices import case_notice, list_notices
from socialcredit.rights.objections import RESOLVED
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import notices
from socialcredit.timeutil import now
from tests.api.conftest import FATHER


def _father_notices(engine: sa.Engine, language: str | None) -> dict[tuple[str, str], Any]:
    with engine.connect() as conn:
        found = find_subject(conn, FATHER)
        page = list_notices(conn, found, 1_000, language=language)
    return {(n["kind"], n["topic"]): n for n in page["notices"]}


def test_a_notice_is_read_in_english_or_in_chinese(village: Settings) -> None:
    engine = create_engine(village)
    english = _father_notices(engine, "en")
    chinese = _father_notices(engine, "zh-CN")
    ban_en, ban_zh = (
        english[("measure_applied", "flight_ban")],
        chinese[("measure_applied", "flight_ban")],
    )
    assert ban_en["headline"] == "Flight ban now applies to you"
    assert ban_zh["headline"] == "“Flight ban”现已适用于您"
    assert ban_en["language"] == "en" and ban_zh["language"] == "zh-CN"
    assert "Appeal action in your portal" in ban_en["contest"]["appeal"]
    assert ban_zh["contest"]["appeal"] == "如需人工复核本措施，请在个人页面中点击“申诉”。"
    assert "提出异议" in ban_zh["contest"]["object"]
    # The machine data is the same in both: codes, dates, the actions for programs.
    for key in ("reasons", "since", "measure", "adverse", "created_at"):
        assert ban_en[key] == ban_zh[key]
    assert ban_zh["contest"]["respond_by"] == ban_en["contest"]["respond_by"]
    assert ban_zh["contest"]["appeal_via"] == ["POST /v1/me/appeals", "scs appeals file"]
    listed = chinese[("list_entered", "dishonest_judgment_debtors")]
    assert listed["headline"] == "您已被列入dishonest judgment debtors名单"
    # Without a language, the one in use (the web's and the API's request language).
    with use("zh-CN"):
        assert _father_notices(engine, None)[("measure_applied", "flight_ban")] == ban_zh
    assert _father_notices(engine, None)[("measure_applied", "flight_ban")] == ban_en
    engine.dispose()


def test_a_case_notice_is_translated_from_its_message(village: Settings) -> None:
    engine = create_engine(village)
    with engine.begin() as conn:
        father = find_subject(conn, FATHER)
        headline = Message(RESOLVED["suppressed"], record="court/c-2")
        notice_id = case_notice(
            conn, father.id, "objection_resolved", "objection 7", headline, {"objection": 7}
        )
        stored = conn.execute(sa.select(notices.c.body).where(notices.c.id == notice_id)).one()
    # Stored: the English sentence, and the message's id and parameters to translate it again.
    assert stored.body["headline"] == str(headline)
    assert stored.body["headline_message"]["params"] == {"record": "court/c-2"}
    english = _father_notices(engine, "en")[("objection_resolved", "objection 7")]
    chinese = _father_notices(engine, "zh-CN")[("objection_resolved", "objection 7")]
    assert english["headline"] == (
        "Your objection to record court/c-2 is resolved: nobody verified it by the deadline, "
        "so it no longer counts."
    )
    assert chinese["headline"] == (
        "您对记录 court/c-2 提出的异议已处理完毕：报送机构未在期限内核实，该记录不再计入。"
    )
    assert "headline_message" not in chinese
    engine.dispose()


def test_the_webhook_sends_english_with_the_chinese_beside_it(village: Settings) -> None:
    engine = create_engine(village)
    sent: list[dict[str, Any]] = []
    with use("zh-CN"):  # the sweep's own language does not matter: the subject's is unknown
        result = deliver_due(engine, sent.append, now())
    assert result.delivered == len(sent) > 0
    ban = next(n for n in sent if n["topic"] == "flight_ban" and n["subject"] == FATHER)
    assert ban["language"] == "en" and ban["headline"] == "Flight ban now applies to you"
    translated = ban["translations"]["zh-CN"]
    assert translated["headline"] == "“Flight ban”现已适用于您"
    assert translated["contest"]["appeal"].startswith("如需人工复核")
    engine.dispose()
