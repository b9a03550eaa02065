"""List membership, conditions, measures and their targets."""

from __future__ import annotations

from socialcredit.timeutil import to_us
from tests.engine.world import T0, World, day, policy

LISTS = """
policy: n
version: "1"
title: lists
subjects: [person, organization]
model: none
lists:
  - {name: debtors, kind: black, public: true, enter: [court.dishonest.*],
     exit: [court.judgment.fulfilled, credit.repair.approved], duration: 730d}
  - {name: models, kind: red, enter: [civic.model], duration: 365d}
measures:
  - name: flight_ban
    kind: restriction
    authority: aviation
    when: {on_list: debtors}
    targets: [self, legal_representatives]
    subjects: [person]
    reason: listed
  - name: school_exclusion
    kind: restriction
    authority: education
    when: {on_list: debtors}
    targets: [dependents]
    reason: parent listed
  - name: green_channel
    kind: privilege
    authority: reform
    when: {all: [{on_list: models}, {not: {on_list: debtors}}]}
    reason: model
  - name: watch
    kind: restriction
    authority: police
    when:
      any:
        - {has_record: {type: traffic.drunk, within: 365d}}
        - {has_record: {type: public_order.*, within: 30d}}
    reason: recent offence
"""


def members(out, name: str) -> dict[int, tuple[int, int]]:  # type: ignore[no-untyped-def]
    return {
        r["sid"]: (r["since_us"], r["until_us"]) for r in out.lists.to_pylist() if r["list"] == name
    }


def decisions(out, measure: str) -> dict[int, dict]:  # type: ignore[no-untyped-def, type-arg]
    return {r["sid"]: r for r in out.decisions.to_pylist() if r["measure"] == measure}


def test_entry_duration_and_exits(world: World) -> None:
    w = world
    w.people(1, 2, 3, 4, 5, 6, 7)
    w.record(1, "court.dishonest.refuses", day(-100))  # listed
    w.record(2, "court.dishonest.refuses", day(-730))  # T == entry + duration: lapsed
    w.record(3, "court.dishonest.refuses", day(-100))
    w.record(3, "court.judgment.fulfilled", day(-50))  # exit after entry: off
    w.record(4, "court.dishonest.refuses", day(-100))
    w.record(4, "credit.repair.approved", day(-100))  # exit at the same instant: off
    w.record(5, "court.judgment.fulfilled", day(-300))  # exit before entry: no effect
    w.record(5, "court.dishonest.refuses", day(-200))
    w.record(6, "court.dishonest.refuses", day(-400))  # first entry, cleared...
    w.record(6, "court.judgment.fulfilled", day(-300))
    w.record(6, "court.dishonest.evades", day(-20))  # ...and listed again: since = re-entry
    w.record(7, "court.dishonest.refuses", day(-500))  # two entries: since earliest,
    w.record(7, "court.dishonest.evades", day(-10))  # until latest + duration
    out = w.evaluate(policy(LISTS))
    listed = members(out, "debtors")
    assert sorted(listed) == [1, 5, 6, 7]
    assert listed[1] == (to_us(day(-100)), to_us(day(630)))
    assert listed[6][0] == to_us(day(-20))
    assert listed[7] == (to_us(day(-500)), to_us(day(720)))


def test_collateral_targets_and_kinds(world: World) -> None:
    w = world
    w.people(1, 2, 3, 4, 5)
    w.subject(10, kind="organization")
    w.edge(1, 2, "guardian", valid_from=day(-3000), valid_to=day(3000))  # child of 1
    w.edge(1, 3, "guardian", valid_from=day(-9000), valid_to=day(-1))  # grown up: not a dependent
    w.edge(4, 10, "legal_representative")  # 4 represents the company
    w.edge(5, 10, "legal_representative", valid_to=day(-30))  # used to
    w.record(1, "court.dishonest.refuses", day(-10))
    w.record(10, "court.dishonest.refuses", day(-20))
    out = w.evaluate(policy(LISTS))
    bans = decisions(out, "flight_ban")
    assert sorted(bans) == [1, 4]  # the company itself is not a person; 5 no longer represents
    assert bans[4]["cause_sid"] == 10
    assert bans[4]["reasons"] == ["on_list:debtors", "collateral:legal_representative"]
    assert bans[1]["reasons"] == ["on_list:debtors"]
    assert bans[4]["since_us"] == to_us(day(-20))
    schools = decisions(out, "school_exclusion")
    assert sorted(schools) == [2]
    assert schools[2]["cause_sid"] == 1
    assert schools[2]["reasons"] == ["on_list:debtors", "collateral:guardian"]


def test_all_not_any_and_has_record_since(world: World) -> None:
    w = world
    w.people(1, 2, 3, 4, 5)
    w.record(1, "civic.model", day(-40))  # model, not a debtor
    w.record(2, "civic.model", day(-40))
    w.record(2, "court.dishonest.refuses", day(-5))  # model but a debtor
    w.record(3, "traffic.drunk", day(-200))
    w.record(3, "public_order.fight", day(-3))
    w.record(4, "traffic.drunk", day(-400))  # outside `within`
    w.record(5, "public_order.fight", day(-30))  # exactly `within` old: no longer holds
    out = w.evaluate(policy(LISTS))
    green = decisions(out, "green_channel")
    assert sorted(green) == [1]
    assert green[1]["since_us"] == to_us(T0)  # `not` is only known now; all = latest part
    assert green[1]["reasons"] == ["on_list:models", "not:on_list:debtors"]
    watch = decisions(out, "watch")
    assert sorted(watch) == [3]
    # any: since the earliest part that holds; has_record: since its latest record
    assert watch[3]["since_us"] == to_us(day(-200))
    assert watch[3]["reasons"] == ["has_record:traffic.drunk", "has_record:public_order.*"]


def test_measures_on_scores_and_tiers(world: World) -> None:
    scored = """
    policy: s
    version: "1"
    title: s
    subjects: [person]
    model: points
    base: 100
    scale: {min: 0, max: 100}
    categories: {tax: {}}
    rules: [{type: tax.late, category: tax, points: -40, reason: late}]
    tiers: [{name: A, min: 90}, {name: B, min: 50}, {name: D, min: 0}]
    measures:
      - {name: loan, kind: privilege, authority: bank, when: {tier_in: [A]}, reason: A}
      - {name: audit, kind: restriction, authority: tax, when: {score_below: 50}, reason: low}
      - {name: ok, kind: privilege, authority: tax, when: {score_at_least: 60}, reason: ok}
    """
    w = world
    w.people(1, 2, 3)
    w.record(2, "tax.late", day(-1))
    w.record(3, "tax.late", day(-1))
    w.record(3, "tax.late", day(-2))
    out = w.evaluate(policy(scored))
    assert sorted(decisions(out, "loan")) == [1]
    assert sorted(decisions(out, "audit")) == [3]
    assert sorted(decisions(out, "ok")) == [1, 2]
    assert decisions(out, "audit")[3]["reasons"] == ["score_below:50"]
    assert decisions(out, "loan")[1]["reasons"] == ["tier_in:A"]
    assert decisions(out, "audit")[3]["since_us"] == to_us(T0)


def test_a_list_only_policy_scores_nobody(world: World) -> None:
    w = world
    w.people(1)
    out = w.evaluate(policy(LISTS))
    assert out.scores.num_rows == 0
    assert out.distribution == []
