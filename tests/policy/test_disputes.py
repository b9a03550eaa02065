"""The `disputes` key: its default, its validation, and what lint says about it."""

from __future__ import annotations

import pytest

from socialcredit.errors import PolicyError
from socialcredit.policy.lint import lint_text
from socialcredit.policy.load import bundled_packs, load_policy
from tests.policy.test_load import BASE


def test_the_default_suspends_for_30_days_and_the_national_pack_says_20() -> None:
    default = load_policy(BASE).policy.disputes
    assert (default.deadline, default.while_disputed) == (30, "suspend")
    national = bundled_packs()["national"].policy.disputes
    assert (national.deadline, national.while_disputed) == (20, "suspend")


def test_bad_disputes_name_the_key() -> None:
    with pytest.raises(PolicyError, match=r"disputes\.deadline"):
        load_policy(BASE + "disputes: {deadline: 20}\n")
    with pytest.raises(PolicyError, match=r"disputes\.while_disputed"):
        load_policy(BASE + "disputes: {while_disputed: ignore}\n")
    with pytest.raises(PolicyError, match=r"disputes\.grace"):
        load_policy(BASE + "disputes: {grace: 2d}\n")


def test_lint_on_disputes() -> None:
    assert not [f for f in lint_text(BASE) if f.key.startswith("disputes")]
    found = {
        (f.level, f.key)
        for f in lint_text(BASE + "disputes: {deadline: 60d, while_disputed: count}\n")
    }
    assert ("warning", "disputes.deadline") in found
    assert ("notice", "disputes.while_disputed") in found
    assert not [
        f for f in lint_text(BASE + "disputes: {deadline: 45d}\n") if f.key.startswith("disputes")
    ]
