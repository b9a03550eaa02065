"""Hostile policy documents (issue 21, item 1): each is refused with a `PolicyError` that names
the place and the reason, quickly, and never escapes as another exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.errors import PolicyError
from socialcredit.policy.lint import lint_file, lint_text
from socialcredit.policy.load import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_NODES,
    MAX_PROBLEMS,
    bundled_packs,
    load_policy,
    load_policy_file,
)
from tests.policy.test_load import BASE

LIST_ONLY = """\
policy: p
version: "1"
title: t
subjects: [person]
model: none
lists: [{name: l, kind: black, enter: [a.b], duration: 1y}]
measures:
  - name: m
    kind: restriction
    authority: x
    reason: r
"""


def alias_bomb(levels: int) -> str:
    """A `when:` whose conditions double at each level through aliases: the shape that took
    26.7 s and 1.1 GB at 629 bytes."""
    steps = ["&a0 {on_list: l}"]
    steps += [f"&a{n} {{any: [*a{n - 1}, *a{n - 1}]}}" for n in range(1, levels)]
    return LIST_ONLY + "    when: {all: [" + ", ".join(steps) + "]}\n"


def nested_nots(depth: int) -> str:
    """A valid `when:` of `depth` nested `not`s, in block style (two YAML levels each)."""
    lines = [LIST_ONLY.rstrip("\n"), "    when:"]
    for level in range(depth):
        lines.append("  " * (level + 3) + "not:")
    lines.append("  " * (depth + 3) + "on_list: l")
    return "\n".join(lines) + "\n"


def refused(text: str) -> tuple[str, str]:
    """The first problem of a refused document: (where, reason)."""
    with pytest.raises(PolicyError) as error:
        load_policy(text, "hostile.yaml")
    assert error.value.source == "hostile.yaml"
    problems: list[tuple[str, str]] = error.value.problems  # type: ignore[attr-defined]
    return problems[0]


def test_the_list_only_skeleton_is_valid() -> None:
    assert load_policy(LIST_ONLY + "    when: {on_list: l}\n").policy.name == "p"


def test_a_list_or_mapping_as_a_key_is_an_error_at_its_place() -> None:
    assert refused("? [a]\n: 1\n") == (
        "line 1, column 3",
        "not valid YAML (a key must be text or a number, not a list or a mapping)",
    )
    where, reason = refused("policy: p\n? {a: 1}\n: 1\n")
    assert where == "line 2, column 3"
    assert "not a list or a mapping" in reason


def test_two_thousand_open_brackets_are_an_error_not_a_recursion() -> None:
    where, reason = refused("[" * 2000 + "]" * 2000)
    assert where.startswith("line 1, column ")
    assert "nesting depth" in reason


def test_nesting_is_bounded_in_block_style_too() -> None:
    assert load_policy(nested_nots(10)).policy.measures[0].name == "m"
    where, reason = refused(nested_nots(MAX_DEPTH))
    assert where.startswith("line ")
    assert reason == f"nested more than {MAX_DEPTH} levels deep"


@pytest.mark.parametrize("levels", [1, 2, 16])
def test_anchors_and_aliases_are_refused_before_they_expand(levels: int) -> None:
    text = alias_bomb(levels)
    where, reason = refused(text)
    line = text.count("\n", 0, text.index("&a0")) + 1
    assert where == f"line {line}, column {text.splitlines()[line - 1].index('&a0') + 1}"
    assert reason.startswith("anchor &a0 refused")
    assert "hide what a reviewer reads" in reason


def test_an_anchor_alone_and_a_merge_key_are_refused() -> None:
    where, reason = refused(BASE.replace("title: test", "title: &t test"))
    assert (where, reason.split(":")[0]) == ("line 4, column 8", "anchor &t refused")
    merged = BASE.replace(
        "  a: {weight: 0.7, sensitivity: 10}", "  a: {<<: {weight: 0.7}, sensitivity: 10}"
    )
    where, reason = refused(merged)
    assert where == "line 9, column 7"
    assert "merge keys (<<) are not allowed" in reason


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!binary aGVsbG8=", "tag:yaml.org,2002:binary"),
        ("!!set {a, b}", "tag:yaml.org,2002:set"),
        ("!!python/object:os.system {}", "tag:yaml.org,2002:python/object:os.system"),
        ("!local x", "!local"),
    ],
)
def test_only_the_plain_tags_are_allowed(value: str, tag: str) -> None:
    where, reason = refused(BASE.replace("title: test", f"title: {value}"))
    assert (where, reason) == ("line 4, column 8", f"the tag {tag} is not allowed in a policy")


def test_a_plain_tag_is_allowed() -> None:
    assert load_policy(BASE.replace('version: "1"', "version: !!str 2026.10")).policy.version == (
        "2026.10"
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2026-13-45", "cannot read 2026-13-45 (month must be in 1..12)"),
        (
            "1" + "0" * 5000,
            "(Exceeds the limit (4300 digits) for integer string conversion: value has 5001 "
            "digits)",
        ),
    ],
)
def test_a_scalar_the_constructor_cannot_build_is_an_error_at_its_place(
    value: str, fragment: str
) -> None:
    where, reason = refused(BASE.replace("title: test", f"title: {value}"))
    assert where == "line 4, column 8"
    assert fragment in reason
    assert "set_int_max_str_digits" not in reason


def test_the_document_size_is_bounded() -> None:
    padding = "# " + "x" * 78 + "\n"
    big = BASE + padding * (MAX_DOCUMENT_BYTES // len(padding) + 1)
    assert refused(big) == ("document", f"is longer than {MAX_DOCUMENT_BYTES} bytes")
    wide = BASE + "# " + "字" * (MAX_DOCUMENT_BYTES // 3) + "\n"  # few characters, many bytes
    where, reason = refused(wide)
    assert where == "document"
    assert reason.endswith(f"bytes long; at most {MAX_DOCUMENT_BYTES}")
    assert load_policy(BASE + padding * 100).policy.name == "t"


def test_the_number_of_nodes_is_bounded() -> None:
    """A small document of many short values was as slow as a large one (a second for 58,000
    references); the count is checked while the events stream, before anything is built."""
    assert load_policy(BASE + "references: [" + ", ".join(["r"] * 4000) + "]\n")
    where, reason = refused(BASE + "references: [" + ", ".join(["r"] * MAX_NODES) + "]\n")
    assert where.startswith("line 18, column ")
    assert reason.startswith(f"holds more than {MAX_NODES} values, mappings and lists")


def test_a_refusal_lists_at_most_a_hundred_problems() -> None:
    many = BASE.replace("rules:\n", "rules:\n" + "  - {}\n" * 400)
    with pytest.raises(PolicyError) as error:
        load_policy(many)
    problems = error.value.problems  # type: ignore[attr-defined]
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0] == ("rules[0].type", "required")
    assert problems[-1] == ("document", f"{3 * 400 - MAX_PROBLEMS} more problems, not listed")


def test_a_lone_surrogate_is_an_error() -> None:
    assert refused(BASE.replace("title: test", "title: te\ud800st")) == (
        "line 4, column 10",
        "not valid Unicode (a lone surrogate)",
    )


def test_files_that_are_too_large_or_not_utf8_are_errors(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(BASE.replace("title: test", "title: caf\xe9").encode("latin-1"))
    with pytest.raises(PolicyError, match=r"latin\.yaml: is not UTF-8 text"):
        load_policy_file(latin)
    assert [(f.level, f.key) for f in lint_file(latin)] == [("error", "")]
    huge = tmp_path / "huge.yaml"
    huge.write_text(BASE + "#" * (MAX_DOCUMENT_BYTES * 4))
    with pytest.raises(PolicyError, match=f"document: is longer than {MAX_DOCUMENT_BYTES}"):
        load_policy_file(huge)
    assert [(f.level, f.key) for f in lint_file(huge)] == [("error", "document")]


def test_lint_names_the_place_of_a_malformed_document() -> None:
    findings = lint_text("? [a]\n: 1\n", "bad.yaml")
    assert [(f.level, f.key) for f in findings] == [("error", "line 1, column 3")]


def test_a_valid_document_is_parsed_once() -> None:
    text = BASE.replace("title: test", "title: parsed once")
    first = load_policy(text, "one.yaml")
    assert load_policy(text, "two.yaml") is first
    assert load_policy(BASE.replace("title: test", "title: parsed twice")) is not first


def test_the_packs_are_within_the_limits() -> None:
    for loaded in bundled_packs().values():
        assert len(loaded.document.encode()) < MAX_DOCUMENT_BYTES // 8
