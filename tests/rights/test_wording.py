"""Plain words: every condition kind, record types with their units, regions and the
percentile, in English and in Simplified Chinese."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialcredit.i18n import use
from socialcredit.policy.load import load_policy
from socialcredit.rights.wording import (
    Cause,
    Facts,
    list_why,
    percentile_text,
    reason_text,
    region_name,
    tier_text,
    type_text,
    value_text,
)

POLICY = load_policy(
    """
policy: words
version: "1"
title: Words
subjects: [person]
model: points
scale: {min: 0, max: 1000}
base: 500
categories: {conduct: {}}
rules:
  - {type: court.judgment.issued, category: conduct, points: -10, reason: Judgments}
tiers:
  - {name: very_good, min: 600}
  - {name: C, min: 0}
lists:
  - name: dishonest_judgment_debtors
    kind: black
    enter: [court.dishonest.refuses_to_perform]
    duration: 2y
measures:
  - name: flight_ban
    kind: restriction
    authority: civil-aviation
    when:
      any:
        - {on_list: dishonest_judgment_debtors}
        - {score_below: 550}
        - {tier_in: [C]}
        - {has_record: {type: traffic.drunk_driving, within: 365d}}
        - {not: {score_at_least: 100}}
    reason: Listed, or a low score
"""
).policy
COURT = Cause(
    "court",
    "Weihai Intermediate People's Court",
    "c-2",
    "court.dishonest.refuses_to_perform",
    datetime(2026, 3, 1, tzinfo=UTC),
)
FACTS = Facts(
    score=512,
    tier="C",
    lists={"dishonest_judgment_debtors": "2026-03-02T00:00:00Z"},
    causes={"dishonest_judgment_debtors": [COURT]},
)


def reason(code: str, language: str, facts: Facts = FACTS) -> str:
    with use(language):
        return reason_text(code, POLICY, facts)


def test_a_list_entry_says_since_when_and_which_record_caused_it() -> None:
    code = "on_list:dishonest_judgment_debtors"
    assert reason(code, "en") == (
        "On the list “Dishonest judgment debtors” since March 2, 2026, because of the record "
        "of March 1, 2026 by Weihai Intermediate People's Court: refused to perform a "
        "judgment despite being able to."
    )
    assert reason(code, "zh-CN") == (
        "自2026年3月2日起列入“Dishonest judgment debtors”，依据是Weihai Intermediate People's "
        "Court2026年3月1日的记录：有履行能力而拒不履行生效法律文书。"
    )
    assert reason("not:" + code, "zh-CN") == "未列入“Dishonest judgment debtors”。"
    # about another subject (a parent's listing restricts a child): who, not the facts
    other = Facts(cause_subject="cn-rid:37108219800517011X")
    assert reason(code, "en", other).startswith("cn-rid:37108219800517011X is on the list")
    assert reason("collateral:guardian", "en", other) == (
        "Because cn-rid:37108219800517011X, a parent or guardian, meets the condition."
    )
    assert reason("collateral:legal_representative", "zh-CN", Facts()) == (
        "因此人担任法定代表人的组织符合条件。"
    )


def test_several_causes_are_listed_in_the_language_s_own_way() -> None:
    second = Cause("court", "Court", "c-9", "court.dishonest.evades_enforcement", COURT.occurred_at)
    with use("en"):
        sentence = list_why("Debtors", "2026-03-02", [COURT, second])
    assert "because of these records:" in sentence and ", and " not in sentence
    assert " and evaded enforcement" in sentence
    with use("zh-CN"):
        assert "和以虚假诉讼" in list_why("失信被执行人名单", "2026-03-02", [COURT, second])


def test_score_and_tier_conditions_are_sentences_with_the_values() -> None:
    assert reason("score_below:550", "en") == "The score, 512, is below 550."
    assert reason("score_below:550", "zh-CN") == "信用分为 512 分，低于 550 分。"
    assert reason("not:score_at_least:100", "en") == "The score, 512, is below 100."
    assert reason("score_below:550", "en", Facts()) == "A score below 550."
    assert reason("tier_in:C", "en") == "The tier, C, is one of C."
    assert reason("tier_in:very_good,C", "zh-CN", Facts()) == "信用等级为Very good和C之一。"
    assert reason("not:tier_in:C", "en") == "A tier other than C."


def test_record_conditions_name_the_type_in_words_and_the_period() -> None:
    code = "has_record:traffic.drunk_driving"
    assert reason(code, "en") == "A record in the last 365 days: a conviction for drunk driving."
    assert reason(code, "zh-CN") == "近 365 天内有记录：醉酒驾驶被定罪。"
    assert reason("not:" + code, "en").startswith("No record in the last 365 days")


@pytest.mark.parametrize("code", ["on_list:x", "score_below:1", "tier_in:C", "has_record:a.b"])
def test_no_sentence_shows_its_code(code: str) -> None:
    for language in ("en", "zh-CN"):
        assert code not in reason(code, language, Facts())


def test_values_carry_their_units() -> None:
    with use("en"):
        assert value_text("finance.payment.late", 1) == "1 day"
        assert value_text("finance.payment.late", 12) == "12 days"
        assert value_text("civic.volunteer.service", 3.5) == "3.50 hours"
        assert value_text("court.judgment.issued", 218300) == "CN¥218,300"
        assert value_text("finance.assets.verified", 12) == "CN¥120,000"
        assert value_text("unknown.type", 4) == "4"
        assert value_text("finance.payment.late", None) == ""
        assert type_text("finance.payment.late") == "a late repayment"
        assert type_text("x.y", "Late things") == "Late things"
        assert type_text("x.y") == "a record of type x.y"
    with use("zh-CN"):
        assert value_text("finance.payment.late", 12) == "12 天"
        assert value_text("court.judgment.issued", 218300) == "¥218,300"
        assert type_text("finance.payment.late") == "逾期还款"


def test_regions_are_named() -> None:
    with use("en"):
        assert region_name("371082") == "Rongcheng, Weihai"
        assert region_name("440524") == "Guangdong Province, region 440524"
        assert region_name("371099") == "Weihai, Shandong, region 371099"
        assert region_name(None) == ""
    with use("zh-CN"):
        assert region_name("371082") == "威海市荣成市"
        assert region_name("110000") == "北京市"
        assert region_name("440524") == "广东省（地区代码 440524）"


def test_the_percentile_has_one_form_rounded_down() -> None:
    with use("en"):
        assert percentile_text(0.4279) == "higher than 42% of those scored"
        assert percentile_text(0.0045) == "higher than 0.4% of those scored"
        assert percentile_text(0.0) == "the lowest of those scored"
        assert percentile_text(None) == ""
    with use("zh-CN"):
        assert percentile_text(0.4279) == "高于 42% 的参评者"


def test_tiers_are_words() -> None:
    assert tier_text(POLICY, "very_good") == "Very good"
    assert tier_text(POLICY, "C") == "C"
    assert tier_text(POLICY, None) == ""
