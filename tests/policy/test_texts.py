"""Policy texts speak both languages: each may be a string or a map from language tag to string
(docs/policy.md). The bundled packs give every text in English and Simplified Chinese, and
`scs policy lint` warns about a text that lacks a language the others give."""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.errors import PolicyError
from socialcredit.i18n import LANGUAGES, text, use
from socialcredit.policy.lint import lint, lint_text
from socialcredit.policy.load import bundled_packs, load_policy
from socialcredit.policy.schema import Policy, texts
from socialcredit.rights.notices import notice_document
from socialcredit.settings import Settings

BASE = """
policy: t
version: "1"
title: {en: Test scheme, zh-CN: 测试方案}
description: {en: A scheme for tests., zh-CN: 用于测试的方案。}
subjects: [person]
model: weighted
scale: {min: 350, max: 950}
categories:
  a: {weight: 0.7, sensitivity: 10, label: {en: Credit, zh-CN: 信用}}
  b: {weight: 0.3, sensitivity: 10, label: {en: Conduct, zh-CN: 行为}}
rules:
  - {type: x.y, category: a, points: 1, expires: 1y, reason: {en: Paid, zh-CN: 已付}}
  - {type: z.w, category: b, points: 1, expires: 1y, reason: {en: Helped, zh-CN: 帮助}}
tiers:
  - {name: hi, min: 600, label: {en: High, zh-CN: 高}}
  - {name: lo, min: 350, label: {en: Low, zh-CN: 低}}
lists:
  - {name: l, kind: black, enter: [x.y], exit: [z.w], duration: 2y,
     label: {en: The list, zh-CN: 名单}, description: {en: Listed., zh-CN: 已列入。}}
measures:
  - {name: m, kind: restriction, authority: a, when: {on_list: l},
     label: {en: Ban, zh-CN: 禁令}, reason: {en: On the list, zh-CN: 在名单上},
     description: {en: No tickets., zh-CN: 不售票。}}
"""
CJK = re.compile(r"[\u4e00-\u9fff]")


def loaded(document: str = BASE) -> Policy:
    return load_policy(textwrap.dedent(document), "test.yaml").policy


def problems(document: str) -> dict[str, str]:
    with pytest.raises(PolicyError) as error:
        load_policy(textwrap.dedent(document), "test.yaml")
    return dict(error.value.problems)  # type: ignore[attr-defined]


def test_every_text_may_be_a_map_and_reads_in_the_language_in_use() -> None:
    p = loaded()
    assert p.title == {"en": "Test scheme", "zh-CN": "测试方案"}
    shown = {
        "en": ("Test scheme", "Credit", "Paid", "High", "The list", "On the list", "No tickets."),
        "zh-CN": ("测试方案", "信用", "已付", "高", "名单", "在名单上", "不售票。"),
    }
    for language, expected in shown.items():
        with use(language):
            measure = p.measures[0]
            assert (
                text(p.title),
                text(p.categories["a"].label),
                text(p.rules[0].reason),
                text(p.tiers[0].label),
                text(p.lists[0].label),
                text(measure.reason),
                text(measure.description),
            ) == expected
    assert [key for key, _ in texts(p)] == [
        "title",
        "description",
        "categories.a.label",
        "categories.b.label",
        "rules[0].reason",
        "rules[1].reason",
        "tiers[0].label",
        "tiers[1].label",
        "lists[0].label",
        "lists[0].description",
        "measures[0].label",
        "measures[0].reason",
        "measures[0].description",
    ]


def test_plain_strings_stay_valid_and_read_the_same_in_every_language() -> None:
    p = loaded(
        BASE.replace("{en: Test scheme, zh-CN: 测试方案}", "Test scheme").replace(
            "{en: Paid, zh-CN: 已付}", "Paid"
        )
    )
    assert p.title == "Test scheme"
    with use("zh-CN"):
        assert text(p.title) == "Test scheme"
        assert text(p.rules[0].reason) == "Paid"
    assert p.tier("hi") is not None and p.list_definition("l") is not None


def test_other_tags_for_a_served_language_are_accepted_as_written() -> None:
    p = loaded(BASE.replace("{en: Paid, zh-CN: 已付}", "{en-GB: Paid, zh-Hans: 已付}"))
    assert p.rules[0].reason == {"en-GB": "Paid", "zh-Hans": "已付"}
    with use("zh-CN"):
        assert text(p.rules[0].reason) == "已付"


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        # a language the system does not serve, or a typo, names the tag
        ("{en: Paid, zh-CN: 已付}", "{en: Paid, fr: Payé}", "rules[0].reason", "'fr' is not a"),
        ("{en: Paid, zh-CN: 已付}", "{en: Paid, zn-CN: 已付}", "rules[0].reason", "'zn-CN'"),
        ("{en: High, zh-CN: 高}", "{en: High, zh-TW: 高}", "tiers[0].label", "'zh-TW'"),
        ("{en: Test scheme, zh-CN: 测试方案}", "{1: x}", "title", "1 is not a language tag"),
        # an empty map, or an empty entry
        ("{en: Test scheme, zh-CN: 测试方案}", "{}", "title", "an empty map of languages"),
        ("{en: Paid, zh-CN: 已付}", "{en: Paid, zh-CN: ''}", "rules[0].reason", "zh-CN: is empty"),
        ("{en: Paid, zh-CN: 已付}", "''", "rules[0].reason", "is empty"),
        # two tags for one language
        (
            "{en: Paid, zh-CN: 已付}",
            "{en: Paid, en-GB: Paid}",
            "rules[0].reason",
            "'en' and 'en-GB' both give the text in English (en)",
        ),
        # an entry that is not a string, a text that is neither
        ("{en: Ban, zh-CN: 禁令}", "{en: [Ban], zh-CN: 禁令}", "measures[0].label", "en: ['Ban']"),
        ("{en: Credit, zh-CN: 信用}", "[Credit]", "categories.a.label", "is not a text"),
        # the length limits of the plain string, per entry
        (
            "{en: Paid, zh-CN: 已付}",
            "{en: Paid, zh-CN: " + "长" * 201 + "}",
            "rules[0].reason",
            "zh-CN: is 201 characters long; at most 200",
        ),
        ("{en: Test scheme, zh-CN: 测试方案}", "x" * 301, "title", "at most 300"),
    ],
)
def test_a_bad_text_names_the_key_and_the_tag(old: str, new: str, key: str, fragment: str) -> None:
    assert old in BASE
    found = problems(BASE.replace(old, new, 1))
    assert fragment in found[key], found


def test_every_text_of_every_bundled_pack_speaks_english_and_simplified_chinese() -> None:
    for name, pack in bundled_packs().items():
        p = pack.policy
        found = dict(texts(p))
        # every category, tier, list and measure has words besides its machine name
        wanted = (
            [f"categories.{c}.label" for c in p.categories]
            + [f"tiers[{i}].label" for i in range(len(p.tiers))]
            + [f"lists[{i}].label" for i in range(len(p.lists))]
            + [f"measures[{i}].label" for i in range(len(p.measures))]
        )
        assert not [k for k in wanted if k not in found], name
        for key, value in found.items():
            assert isinstance(value, dict), f"{name} {key}"
            assert sorted(value) == sorted(LANGUAGES), f"{name} {key}"
            assert CJK.search(value["zh-CN"]), f"{name} {key}: zh-CN is not Chinese"
            assert value["en"] != value["zh-CN"], f"{name} {key}"
        assert not [f for f in lint(p) if "lacks" in f.message], name


def test_the_packs_keep_sesame_s_words_for_its_bands() -> None:
    sesame = bundled_packs()["sesame"].policy
    with use("zh-CN"):
        assert [text(t.label) for t in sesame.tiers] == [
            "信用极好",
            "信用优秀",
            "信用良好",
            "信用中等",
            "信用较差",
        ]
    national = bundled_packs()["national"].policy
    debtors = national.list_definition("dishonest_judgment_debtors")
    assert debtors is not None and text(debtors.label, "zh-CN") == "失信被执行人名单"
    ban = national.measure("flight_ban")
    assert ban is not None and text(ban.label, "zh-CN") == "限制乘坐飞机"


def lacking(document: str) -> dict[str, str]:
    return {f.key: f.message for f in lint_text(textwrap.dedent(document)) if "lacks" in f.message}


def test_lint_warns_of_a_text_that_lacks_a_language_the_others_give() -> None:
    assert lacking(BASE) == {}
    found = lacking(BASE.replace("{en: Helped, zh-CN: 帮助}", "{en: Helped}"))
    assert found == {"rules[1].reason": "lacks zh-CN (other texts of this policy give zh-CN)"}
    plain = lacking(BASE.replace("{en: No tickets., zh-CN: 不售票。}", "No tickets."))
    assert plain["measures[0].description"].startswith("lacks en, zh-CN (a plain string")
    findings = lint_text(textwrap.dedent(BASE.replace("{en: Helped, zh-CN: 帮助}", "{en: Helped}")))
    assert {f.level for f in findings if "lacks" in f.message} == {"warning"}


def test_a_policy_of_plain_strings_has_no_language_warning() -> None:
    plain = load_policy(
        textwrap.dedent("""
        policy: p
        version: "1"
        title: plain
        subjects: [person]
        model: none
        lists: [{name: l, kind: black, enter: [x.y], exit: [z.w], duration: 2y}]
        measures:
          - {name: m, kind: restriction, authority: a, when: {on_list: l}, reason: listed}
        """)
    ).policy
    assert not [f for f in lint(plain) if "lacks" in f.message]


def test_a_stored_notice_shows_the_policy_s_texts_in_the_language_in_use() -> None:
    row: Any = SimpleNamespace(
        id=1,
        kind="measure_applied",
        topic="m",
        adverse=True,
        policy_name="t",
        evaluation_id=2,
        previous_evaluation_id=None,
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
        state="pending",
        body={
            "headline": "M now applies to you",
            "reason": {"en": "On the list", "zh-CN": "在名单上"},
            "factors": [{"category": "a", "reason": {"en": "Paid", "zh-CN": "已付"}, "effect": -1}],
        },
    )
    with use("zh-CN"):
        shown = notice_document(row)
    assert shown["reason"] == "在名单上"
    assert shown["factors"][0]["reason"] == "已付"
    shown = notice_document(row)
    assert (shown["reason"], shown["factors"][0]["reason"]) == ("On the list", "Paid")
    assert row.body["reason"] == {"en": "On the list", "zh-CN": "在名单上"}  # stored as given


def test_scs_policy_lint_warns_of_a_missing_language_without_failing(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "half.yaml"
    path.write_text(textwrap.dedent(BASE.replace("{en: Helped, zh-CN: 帮助}", "{en: Helped}")))
    env = {"SCS_HOME": str(sqlite_settings.home), "SCS_DATABASE_URL": sqlite_settings.database_url}
    result = CliRunner().invoke(app, ["policy", "lint", str(path)], env=env | {"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "warning rules[1].reason: lacks zh-CN" in result.output
    strict = CliRunner().invoke(app, ["policy", "lint", "--strict", str(path)], env=env)
    assert strict.exit_code == 1
    packs = CliRunner().invoke(app, ["policy", "lint"], env=env | {"COLUMNS": "200"})
    assert packs.exit_code == 0 and "lacks" not in packs.output
