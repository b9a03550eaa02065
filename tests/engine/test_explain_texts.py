"""An explanation keeps the policy's texts as the policy gives them (a string or a map from
language tag to string); the JSON document of a report resolves them in the language in use."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from socialcredit.engine import explain
from socialcredit.i18n import use
from socialcredit.rights.reports import SubjectReport, report_document
from socialcredit.store.registry import Subject
from tests.engine.world import T0, World, day, policy

TEXTS = """
policy: w
version: "1"
title: {en: Weighted, zh-CN: 加权}
subjects: [person]
model: weighted
scale: {min: 350, max: 950}
categories:
  credit: {weight: 0.6, sensitivity: 40, label: {en: Credit, zh-CN: 信用}}
  conduct: {weight: 0.4, sensitivity: 20}
rules:
  - {type: finance.payment.late, category: credit, points: -5, expires: 5y,
     reason: {en: Late payments, zh-CN: 逾期还款}}
  - {type: finance.loan.default, category: credit, points: -9, expires: 5y,
     reason: {en: Late payments, zh-CN: 逾期还款}}
  - {type: civic.volunteer, category: conduct, points: 3, reason: Volunteering}
  - {type: civic.lie, category: conduct, points: -1, ceiling: 600,
     reason: {en: A lie, zh-CN: 谎言}}
"""


def test_factors_keep_the_policy_s_texts_and_the_document_resolves_them(world: World) -> None:
    w = world
    w.people(1)
    w.record(1, "finance.payment.late", day(-3))
    w.record(1, "finance.loan.default", day(-2))
    w.record(1, "civic.volunteer", day(-2))
    for _ in range(40):
        w.record(1, "civic.volunteer", day(-1))
    w.record(1, "civic.lie", day(-1))
    p = policy(TEXTS)
    full = w.evaluate(p)
    found = explain(w.evaluate(p, subjects=[1], distribution=full.distribution, explain=True), 1)
    # two rules with the same reason in every language are one factor
    late = [f for f in found.factors if f.reason == {"en": "Late payments", "zh-CN": "逾期还款"}]
    assert len(late) == 1 and len(late[0].records) == 2
    assert {"Volunteering"} == {f.reason for f in found.factors if isinstance(f.reason, str)}
    assert found.ceiling == 600
    assert found.ceiling_reasons and isinstance(found.ceiling_reasons[0], dict)
    assert found.ceiling_reasons[0]["zh-CN"].startswith("谎言 (src/")
    assert [c.label for c in found.categories] == [{"en": "Credit", "zh-CN": "信用"}, "Conduct"]

    report: Any = SubjectReport(
        subject=Subject(1, "person", "A", None, None, None, ("cn-rid:1",)),
        evaluation=SimpleNamespace(id=1, as_of=T0, policy_version="1"),  # type: ignore[arg-type]
        stored_policy=SimpleNamespace(policy=p),  # type: ignore[arg-type]
        explanation=found,
        names={},
        reproduced=True,
    )
    english = report_document(report)
    with use("zh-CN"):
        chinese = report_document(report)
    assert [c["label"] for c in english["categories"]] == ["Credit", "Conduct"]
    assert [c["label"] for c in chinese["categories"]] == ["信用", "Conduct"]
    assert "逾期还款" in [f["reason"] for f in chinese["factors"]]
    assert "Late payments" in [f["reason"] for f in english["lowering"]]
    assert chinese["ceiling_reasons"][0].startswith("谎言 (src/")
    assert all(isinstance(f["reason"], str) for f in (*chinese["lowering"], *chinese["factors"]))
    # the order does not depend on the language
    assert [f["effect"] for f in english["factors"]] == [f["effect"] for f in chinese["factors"]]
