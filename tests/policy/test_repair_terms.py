"""A list's credit repair terms: validated on load, named in every error."""

from __future__ import annotations

import pytest

from socialcredit.errors import PolicyError
from socialcredit.policy.load import bundled_packs, load_policy

DOC = """
policy: t
version: "1"
title: t
subjects: [person]
model: none
lists:
  - name: debtors
    kind: black
    enter: [court.dishonest.*]
    exit: [court.paid, credit.repair.*]
    duration: 2y
    repair: REPAIR
"""


def load(repair: str) -> object:
    return load_policy(DOC.replace("REPAIR", repair))


def test_terms_load() -> None:
    policy = load("{min_time: 1y, proof: [credit.commitment.*], exit: credit.repair.approved}")
    terms = policy.policy.lists[0].repair  # type: ignore[attr-defined]
    assert (terms.min_time, terms.proof, terms.exit) == (
        365,
        ["credit.commitment.*"],
        "credit.repair.approved",
    )


@pytest.mark.parametrize(
    ("repair", "key", "reason"),
    [
        ("{min_time: 1y, proof: [a.b], exit: other.exit}", "lists[0].repair.exit", "not one of"),
        (
            "{min_time: 1y, proof: [a.b], exit: credit.*}",
            "lists[0].repair.exit",
            "not a record type",
        ),
        (
            "{min_time: soon, proof: [a.b], exit: court.paid}",
            "lists[0].repair.min_time",
            "duration",
        ),
        ("{min_time: 1y, proof: [], exit: court.paid}", "lists[0].repair.proof", "at least 1"),
        ("{min_time: 1y, exit: court.paid}", "lists[0].repair.proof", "required"),
    ],
)
def test_bad_terms_name_the_key(repair: str, key: str, reason: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load(repair)
    problems = getattr(caught.value, "problems", [(caught.value.key, caught.value.reason)])
    assert any(k == key and reason in r for k, r in problems), problems


def test_the_national_pack_declares_repair_on_the_debtor_list() -> None:
    national = bundled_packs()["national"].policy
    debtors = next(x for x in national.lists if x.name == "dishonest_judgment_debtors")
    assert debtors.repair is not None and debtors.repair.exit in debtors.exit
