"""Overrides: a reviewer's decision that a measure does not apply is data `evaluate` reads.

It lifts the decision row of its (measure, subject, cause) while it is in force (granted by
known_at, before its until) and the decision's reasons are the ones reviewed; the properties
check that on random worlds, for full and subset evaluations and for replays with known_at.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.engine import evaluate
from socialcredit.engine.overrides import in_force
from socialcredit.timeutil import to_us
from tests.engine.conftest import Engine
from tests.engine.test_properties import POINTS, SLOW, WEIGHTED, examples, worlds
from tests.engine.world import T0, World, day, policy

LISTED = """
policy: n
version: "1"
title: lists
subjects: [person]
model: none
lists:
  - {name: debtors, kind: black, enter: [court.dishonest.*], exit: [court.paid], duration: 730d}
measures:
  - name: flight_ban
    kind: restriction
    authority: aviation
    when: {any: [{on_list: debtors}, {has_record: {type: traffic.drunk, within: 365d}}]}
    targets: [self, dependents]
    reason: listed
"""
REASONS = ["on_list:debtors"]


def bans(out: Any) -> set[tuple[int, int]]:
    return {(r["sid"], r["cause_sid"]) for r in out.decisions.to_pylist()}


def listed_world(world: World) -> World:
    world.people(1, 2, 3)
    world.edge(1, 2, "guardian")  # 2 is 1's child
    world.record(1, "court.dishonest.a", day(-100))
    world.record(3, "court.dishonest.a", day(-100))
    return world


def test_an_override_lifts_only_its_own_decision_row(world: World) -> None:
    p = policy(LISTED)
    listed_world(world)
    assert bans(world.evaluate(p)) == {(1, 1), (2, 1), (3, 3)}
    world.override("n", "flight_ban", 1, REASONS, granted=day(-5))
    assert bans(world.evaluate(p)) == {(2, 1), (3, 3)}  # the child's collateral row stays
    world.override("n", "flight_ban", 2, [*REASONS, "collateral:guardian"], day(-5), cause=1)
    assert bans(world.evaluate(p)) == {(3, 3)}


def test_another_policy_or_measure_is_not_lifted(world: World) -> None:
    p = policy(LISTED)
    listed_world(world)
    world.override("other", "flight_ban", 3, REASONS, granted=day(-5))
    world.override("n", "rail_ban", 3, REASONS, granted=day(-5))
    assert (3, 3) in bans(world.evaluate(p))


def test_an_override_ends_on_its_date(world: World) -> None:
    p = policy(LISTED)
    listed_world(world)
    world.override("n", "flight_ban", 3, REASONS, granted=day(-5), until=day(10))
    assert (3, 3) not in bans(world.evaluate(p, day(10) - timedelta(microseconds=1)))
    assert (3, 3) not in bans(world.evaluate(p, day(9)))
    assert (3, 3) in bans(world.evaluate(p, day(10)))


def test_a_changed_cause_reapplies_the_measure(world: World) -> None:
    p = policy(LISTED)
    listed_world(world)
    world.override("n", "flight_ban", 3, REASONS, granted=day(-5))
    assert (3, 3) not in bans(world.evaluate(p))
    world.record(3, "traffic.drunk", day(-1))  # a second reason: not the decision reviewed
    out = world.evaluate(p)
    row = next(r for r in out.decisions.to_pylist() if r["sid"] == 3)
    assert row["reasons"] == ["on_list:debtors", "has_record:traffic.drunk"]


def test_a_replay_known_before_the_grant_still_applies_the_measure(world: World) -> None:
    p = policy(LISTED)
    listed_world(world)
    world.override("n", "flight_ban", 3, REASONS, granted=day(-5))
    assert (3, 3) in bans(world.evaluate(p, known_at=day(-6)))
    assert (3, 3) not in bans(world.evaluate(p, known_at=day(-5)))


def test_in_force_is_the_one_predicate() -> None:
    granted, until = to_us(day(0)), to_us(day(10))
    assert in_force(granted, None, to_us(day(-3)), None)  # every override when K is None
    assert not in_force(granted, None, to_us(day(1)), to_us(day(-1)))
    assert in_force(granted, until, until - 1, granted)
    assert not in_force(granted, until, until, None)


def _only(table: pa.Table, sids: list[int]) -> pa.Table:
    return table.filter(pc.is_in(table["sid"], pa.array(sids, pa.int64())))


@st.composite
def overridden(draw: st.DrawFn, world: World, decisions: list[dict[str, Any]], name: str) -> None:
    """Overrides of some of `decisions` (some with other reasons: a changed cause)."""
    for row in draw(st.lists(st.sampled_from(decisions), max_size=4)) if decisions else []:
        reasons = list(row["reasons"])
        if draw(st.booleans()) and len(reasons) > 1:
            reasons = reasons[:-1]  # reviewed under another cause: lifts nothing now
        world.override(
            name,
            row["measure"],
            row["sid"],
            reasons,
            granted=day(draw(st.integers(-30, 0))),
            until=draw(st.one_of(st.none(), st.integers(-10, 30).map(day))),
            cause=row["cause_sid"],
        )


def _expected(before: pa.Table, world: World, as_of: int, known: int | None) -> list[Any]:
    lifted = {
        (o["measure"], o["sid"], o["cause_sid"], tuple(o["reasons"]))
        for o in world.overrides
        if in_force(o["granted_us"], o["until_us"], as_of, known)
    }
    return [
        r
        for r in before.to_pylist()
        if (r["measure"], r["sid"], r["cause_sid"], tuple(r["reasons"])) not in lifted
    ]


def test_overrides_lift_exactly_their_rows_in_full_subset_and_replay(engine: Engine) -> None:
    @examples(engine, SLOW, spark=2)
    @given(worlds(), st.sampled_from([None, -15, -3]), st.data())
    def check(world: World, known: int | None, data: Any) -> None:
        known_at = None if known is None else day(known)
        known_us = None if known_at is None else to_us(known_at)
        for p in (policy(WEIGHTED.replace("HOPS", "1")), policy(POINTS)):
            world.overrides = []
            before = evaluate(engine(world.inputs()), p, T0, known_at)
            data.draw(overridden(world, before.decisions.to_pylist(), p.name))
            data_ = engine(world.inputs())
            full = evaluate(data_, p, T0, known_at)
            assert full.decisions.to_pylist() == _expected(
                before.decisions, world, to_us(T0), known_us
            )
            assert full.scores.equals(before.scores) and full.lists.equals(before.lists)
            sids = [s["sid"] for s in world.subjects]
            chosen = data.draw(st.lists(st.sampled_from(sids), min_size=1, max_size=3, unique=True))
            part = evaluate(data_, p, T0, known_at, subjects=chosen, distribution=full.distribution)
            assert part.decisions.equals(_only(full.decisions, chosen))
            # A replay known at K reads only the overrides granted by then.
            if known_us is not None:
                kept = [o for o in world.overrides if o["granted_us"] <= known_us]
                world.overrides, all_of_them = kept, world.overrides
                again = evaluate(engine(world.inputs()), p, T0, known_at)
                world.overrides = all_of_them
                assert again.decisions.equals(full.decisions)

    check()
