"""Fuzzing the policy loader (issue 21, item 10): whatever the text, `load_policy` returns a
policy or raises a `PolicyError` whose every problem has a place and a reason; nothing else
escapes. Seeded with the documents that escaped before."""

from __future__ import annotations

import string
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from socialcredit.errors import PolicyError
from socialcredit.policy.lint import lint_text
from socialcredit.policy.load import LoadedPolicy, load_policy
from tests.policy.test_hostile import LIST_ONLY, alias_bomb
from tests.policy.test_load import BASE

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
YAML_CHARACTERS = string.ascii_letters[:8] + string.digits + " \n\t-:?,[]{}&*!<|>'\"#%@.~\\"
SEEDS = (
    "? [a]\n: 1\n",  # an unhashable key: a 500 and a lint traceback
    "[" * 2000,  # a RecursionError, 3,000 lines of traceback logged twice
    "[" * 2000 + "]" * 2000,
    alias_bomb(16),  # doubling aliases in when: (5.4 s at 618 bytes, 26.7 s at 629)
    "policy: 2026-13-45\n",  # a date the constructor refuses with ValueError
    "policy: 1" + "0" * 5000 + "\n",  # past Python's integer digit limit
    "a: !!binary ZZZ\n",
    "a: \x00\n",
    "<<: {policy: p}\n",
    "- - - - -\n" * 20,
)


def outcome(text: str) -> LoadedPolicy | list[tuple[str, str]]:
    try:
        return load_policy(text, "fuzz.yaml")
    except PolicyError as error:
        problems: list[tuple[str, str]] = error.problems  # type: ignore[attr-defined]
        assert problems
        for where, reason in problems:
            assert isinstance(where, str)
            assert reason
            assert "Traceback" not in reason
        return problems


def check(text: str) -> None:
    outcome(text)
    findings = lint_text(text, "fuzz.yaml")
    assert all(f.key is not None and f.message for f in findings)


def seeded(test: Any) -> Any:
    for seed in SEEDS:
        test = example(seed)(test)
    return test


@FUZZ
@seeded
@given(st.text(alphabet=YAML_CHARACTERS, max_size=400))
def test_any_yaml_like_text(text: str) -> None:
    check(text)


@FUZZ
@seeded
@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check(text)


@FUZZ
@given(
    st.sampled_from([BASE, LIST_ONLY + "    when: {on_list: l}\n"]),
    st.integers(0, 10_000),
    st.text(alphabet=YAML_CHARACTERS, max_size=40),
)
@example(BASE, BASE.index("title"), "? [a]\n: 1\n")
@example(BASE, BASE.index("title"), "&x ")
@example(BASE, 0, "[" * 100)
def test_a_valid_document_with_something_spliced_in(base: str, at: int, insert: str) -> None:
    at = at % (len(base) + 1)
    check(base[:at] + insert + base[at:])


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["person", "weighted", "none", "1y", "x.y", "l"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
KEYS = ["policy", "version", "title", "subjects", "model", "scale", "categories", "rules"]


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), values, max_size=8))
def test_any_mapping_written_as_yaml(data: dict[str, Any]) -> None:
    check(yaml.safe_dump(data, allow_unicode=True))
