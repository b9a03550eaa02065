"""Fuzzing the policy loader: whatever text it is handed, `load_policy` returns a policy or
raises a `PolicyError` that names the file, and `scs policy lint` (`lint_text`) returns its
findings. Nothing else may escape: in the API any other exception is a 500, in the CLI a
traceback.

Three generators: YAML's own tokens strung together (the parser's corners), a valid document
with one value replaced by arbitrary data (the validator's and the reference resolver's corners),
and that data dumped with shared parts (anchors and aliases). Seeded with the documents of
issue 21: a complex key, 2,000 nested `[`, and aliases inside `when:`.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from socialcredit.errors import PolicyError
from socialcredit.policy.lint import lint_text
from socialcredit.policy.load import load_policy
from tests.policy.test_load import BASE

SOURCE = "fuzz.yaml"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TOKENS = (
    *("[", "]", "{", "}", ",", "? ", ": ", "- ", "\n", "  ", "#", "'", '"', "|", ">"),
    *("&a ", "*a ", "&b ", "*b ", "<<: ", "!!str ", "!!map ", "!!python/name:os.system "),
    *("%YAML 1.1\n", "---\n", "...\n", "~", "null", "true", "1", "-0.5e3", ".nan", "0x1f"),
    *("policy", "version", "when", "on_list", "all", "any", "not", "rules", "measures"),
)
yaml_tokens = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["1y", "2y", "-1d", "0d", "l", "m", "a", "x.y", "x.*", "*", "black"])
)
values = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["on_list", "all", "any", "not", "score_below", "tier", "min", "max"])
            | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def _places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in nested data: the path to each value (the document itself included)."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _places(value, (*path, index))
    return found


@st.composite
def one_value_changed(draw: st.DrawFn) -> str:
    """The test module's valid document with the value at one place replaced (or, at a
    mapping, one key added); some documents share the new value twice, so that the dump
    carries an anchor and an alias."""
    data = yaml.safe_load(BASE)
    place = draw(st.sampled_from(_places(data)))
    new = draw(values)
    if not place:
        return yaml.safe_dump(new)
    parent = data
    for part in place[:-1]:
        parent = parent[part]
    parent[place[-1]] = new
    if draw(st.booleans()) and isinstance(new, dict | list):
        data["measures"][0]["when"] = {"all": [new, new]}  # one object twice: &id001, *id001
    if isinstance(parent, dict) and draw(st.booleans()):
        parent[draw(st.text(max_size=8))] = copy.deepcopy(new)
    return yaml.dump(data, Dumper=yaml.SafeDumper, allow_unicode=draw(st.booleans()))


def aliases_doubling(levels: int) -> str:
    """A document whose `when:` doubles at each alias level (item 1's expansion)."""
    lines = ["a0: &a0 {on_list: l}"]
    lines += [f"a{i}: &a{i} {{all: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, levels + 1)]
    return (
        BASE.replace("when: {on_list: l}", f"when: *a{levels}")
        + "x-anchors:\n"
        + "".join(f"  {line}\n" for line in lines)
    )


def loads_or_names_the_file(text: str) -> None:
    refusal: PolicyError | None = None
    try:
        load_policy(text, SOURCE)
    except PolicyError as error:
        refusal = error
    if refusal is not None:
        assert str(refusal).startswith(f"{SOURCE}: "), str(refusal)
        assert refusal.reason, "a PolicyError without a reason"
    findings = lint_text(text, SOURCE)
    assert all(finding.message for finding in findings)
    assert (refusal is None) == all(finding.level != "error" for finding in findings)


@pytest.mark.slow
@given(text=yaml_tokens)
@example(text="? [a]\n: 1\n")  # issue 21: a TypeError escaped
@example(text="[" * 2000)  # issue 21: a RecursionError escaped
@example(text="{" * 2000)
@example(text="&a [*a]")
@example(text="a: &x 1\nb: *x\n<<: {c: 2}\n")
@example(text="!!python/name:os.system ''")
@example(text="!!map ---")
@example(text="a: 2026-02-30")
@FUZZ
def test_yaml_tokens_load_or_fail_with_a_policy_error(text: str) -> None:
    loads_or_names_the_file(text)


@pytest.mark.slow
@given(text=one_value_changed())
@example(text=aliases_doubling(3))
@example(text=aliases_doubling(8))
@example(text=BASE.replace("points: 1,", "points: " + "9" * 5000 + ","))
@example(text=BASE.replace("weight: 0.7", "weight: .nan"))
@FUZZ
def test_a_changed_document_loads_or_fails_with_a_policy_error(text: str) -> None:
    loads_or_names_the_file(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("!!map ---", "mapping"),
        ("a: [!!map x]", "mapping"),
        ("a: 2026-02-30", "day is out of range for month"),
        ("a: " + "9" * 5000, "4300 digits"),
    ],
)
def test_what_the_fuzzer_found_is_a_policy_error_with_a_place(text: str, reason: str) -> None:
    """Found by the generators above: a `!!map` tag on a scalar reached the duplicate-key check
    (a ValueError, a 500), and a scalar Python cannot hold escaped PyYAML as a ValueError."""
    with pytest.raises(PolicyError) as error:
        load_policy(text, SOURCE)
    assert str(error.value).startswith(f"{SOURCE}: ")
    assert error.value.key, "no place"
    assert reason in error.value.reason
