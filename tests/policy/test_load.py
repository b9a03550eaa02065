"""Policy documents: every error names the file, the key and the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from socialcredit.errors import PolicyError
from socialcredit.policy.lint import lint, lint_text
from socialcredit.policy.load import bundled_packs, load_policy, load_policy_file

BASE = """
policy: t
version: "1"
title: test
subjects: [person]
model: weighted
scale: {min: 350, max: 950}
categories:
  a: {weight: 0.7, sensitivity: 10}
  b: {weight: 0.3, sensitivity: 10}
rules:
  - {type: x.y, category: a, points: 1, expires: 1y, reason: r}
  - {type: z.w, category: b, points: 1, expires: 1y, reason: r}
tiers: [{name: hi, min: 600}, {name: lo, min: 350}]
lists: [{name: l, kind: black, enter: [x.y], exit: [z.w], duration: 2y}]
measures:
  - {name: m, kind: restriction, authority: a, when: {on_list: l}, reason: r}
"""


def problems(text: str) -> dict[str, str]:
    with pytest.raises(PolicyError) as error:
        load_policy(textwrap.dedent(text), "test.yaml")
    assert str(error.value).startswith("test.yaml: ")
    found: dict[str, str] = {}
    for key, reason in error.value.problems:  # type: ignore[attr-defined]
        found[key] = f"{found[key]} | {reason}" if key in found else reason
    return found


def test_the_base_document_is_valid_and_its_digest_ignores_formatting() -> None:
    first = load_policy(BASE)
    again = load_policy(
        "# a comment\n"
        + BASE.replace("{weight: 0.7, sensitivity: 10}", "\n    weight: 0.70\n    sensitivity: 10")
    )
    assert first.digest == again.digest
    assert load_policy(BASE.replace("points: 1, expires", "points: 2, expires")).digest != (
        first.digest
    )


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        ("title: test", "title: test\ncolour: red", "colour", "unknown key"),
        ('version: "1"', "version: 2026.10", "version", "quote the version"),
        ("weight: 0.7,", "weight: 0.6,", "categories", "sum to 1"),
        (
            "expires: 1y, reason: r}\n  - {type: z.w",
            "expires: 12m, reason: r}\n  - {type: z.w",
            "rules[0].expires",
            "not a duration",
        ),
        ("category: a,", "category: c,", "rules[0].category", "unknown category 'c'"),
        ("type: x.y, category", "type: X, category", "rules[0].type", "not a record type"),
        ("{on_list: l}", "{on_list: nope}", "measures[0].when", "unknown list 'nope'"),
        ("{on_list: l}", "{on_lists: l}", "measures[0].when", "exactly one of the keys"),
        ("{on_list: l}", "{tier_in: [top]}", "measures[0].when", "unknown tiers ['top']"),
        ("min: 350}]", "min: 400}]", "tiers[1].min", "<= scale.min"),
        (
            "{name: lo, min: 350}",
            "{name: mid, min: 700}, {name: lo, min: 350}",
            "tiers[1].min",
            "highest first",
        ),
        (
            "points: 1, expires: 1y, reason: r}\n  - {type: z.w",
            "points: 1, ceiling: 1000, reason: r}\n  - {type: z.w",
            "rules[0].ceiling",
            "outside the scale",
        ),
        (
            "b: {weight: 0.3, sensitivity: 10}",
            "b: {weight: 0.3, network: {relationships: {contact: 1}}}",
            "rules[1].category",
            "network category",
        ),
        ("model: weighted", "model: points", "base", "required by model: points"),
        ("a: {weight", "score: {weight", "categories.score", "reserved"),
        ("duration: 2y", "duration: forever", "lists[0].duration", "not a duration"),
        ("duration: 2y", "duration: 300000y", "lists[0].duration", "longer than 1000 years"),
        (
            "a: {weight: 0.7, sensitivity: 10}",
            "a: {weight: 0.7, sensitivity: .inf}",
            "categories.a.sensitivity",
            "finite",
        ),
        (
            "points: 1, expires: 1y, reason: r}\n  - {type: z.w",
            "points: 1e12, expires: 1y, reason: r}\n  - {type: z.w",
            "rules[0].points",
            "less than or equal to 1000000000",
        ),
    ],
)
def test_errors_name_key_and_reason(old: str, new: str, key: str, fragment: str) -> None:
    assert old in BASE
    found = problems(BASE.replace(old, new, 1))
    assert key in found, found
    assert fragment in found[key]


def test_list_only_policies_cannot_score() -> None:
    found = problems(BASE.replace("model: weighted", "model: none"))
    assert "scale" in found
    assert "model" in found


def test_yaml_syntax_errors_have_a_line() -> None:
    found = problems("policy: [unclosed\n")
    assert any(key.startswith("line ") for key in found)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy_file(tmp_path / "none.yaml")


def test_lint_warnings() -> None:
    noisy = BASE.replace(
        "points: 1, expires: 1y, reason: r}\n  - {type: z.w",
        "per_unit: 1, reason: r}\n  - {type: z.w",
    )
    noisy = noisy.replace(
        "when: {on_list: l}", "when: {has_record: {type: x.y}}, targets: [dependents]"
    )
    found = {(f.level, f.key) for f in lint_text(noisy)}
    assert ("warning", "rules[0].expires") in found
    assert ("warning", "rules[0].cap") in found
    assert ("warning", "measures[0].when") in found
    assert ("notice", "measures[0].targets") in found


def test_lint_reports_every_error_of_an_invalid_document() -> None:
    broken = BASE.replace("category: a,", "category: c,").replace("{on_list: l}", "{on_list: nope}")
    keys = {f.key for f in lint_text(broken) if f.level == "error"}
    assert {"rules[0].category", "measures[0].when"} <= keys


@pytest.mark.parametrize("name", ["sesame", "national", "corporate", "rongcheng"])
def test_bundled_packs_pass_lint(name: str) -> None:
    pack = bundled_packs()[name]
    assert pack.policy.references, "every pack cites what it reads"
    assert [f for f in lint(pack.policy) if f.level != "notice"] == []


def test_a_key_given_twice_is_an_error() -> None:
    twice = BASE.replace(
        "points: 1, expires: 1y, reason: r}\n  - {type: z.w",
        "points: 1, points: -500, expires: 1y, reason: r}\n  - {type: z.w",
    )
    found = problems(twice)
    assert any("appears twice" in reason for reason in found.values())


def test_too_many_conditions_in_one_measure() -> None:
    many = ", ".join(f"{{score_below: {n}}}" for n in range(63))
    found = problems(BASE.replace("when: {on_list: l}", "when: {any: [" + many + "]}"))
    assert "63 conditions" in found["measures[0].when"]


def test_lint_gives_scoring_by_association_a_notice() -> None:
    sesame = bundled_packs()["sesame"].policy
    notices = [f for f in lint(sesame) if f.level == "notice"]
    assert [f.key for f in notices] == [f"categories.{sesame.network_category}.network"]
    assert "association" in notices[0].message
    assert all(not f.key.endswith(".network") for f in lint(bundled_packs()["rongcheng"].policy))
