"""How a record under objection counts (`disputes.while_disputed`), as a property over random
worlds: under `count` a disputed record counts exactly as an active one; under `suspend` (the
default) exactly as a withdrawn one; and a suppressed record never counts. Replays with
known_at see each status as it was."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.engine import evaluate
from socialcredit.engine.outcome import Outcome
from tests.engine.conftest import Engine
from tests.engine.test_properties import POINTS, SLOW, WEIGHTED, examples, worlds
from tests.engine.world import T0, World, day, policy

COUNT = "\ndisputes: {deadline: 20d, while_disputed: count}\n"


def _rewritten(world: World, mapping: dict[str, str]) -> World:
    status = [{**s, "status": mapping.get(s["status"], s["status"])} for s in world.status]
    return replace(world, status=status)


def _same(a: Outcome, b: Outcome) -> None:
    for name in ("scores", "lists", "decisions"):
        left, right = getattr(a, name), getattr(b, name)
        assert left.equals(right), (name, left.to_pylist(), right.to_pylist())


def test_disputed_records_count_as_the_policy_says(engine: Engine) -> None:
    @examples(engine, settings(SLOW, max_examples=6), spark=1)
    @given(worlds(), st.sampled_from([None, -15, -25]), st.data())
    def check(world: World, known: int | None, data: Any) -> None:
        for rid in data.draw(st.sets(st.integers(1, max(1, len(world.records))), max_size=3)):
            if rid <= len(world.records):
                world.change(rid, data.draw(st.sampled_from(["disputed", "suppressed"])), day(-20))
        known_at = None if known is None else day(known)
        for text in (WEIGHTED.replace("HOPS", "1"), POINTS):
            suspend, count = policy(text), policy(text + COUNT)
            assert count.disputes.while_disputed == "count"
            as_given = engine(world.inputs())
            active = engine(_rewritten(world, {"disputed": "active"}).inputs())
            withdrawn = engine(_rewritten(world, {"disputed": "retracted"}).inputs())
            _same(evaluate(as_given, count, T0, known_at), evaluate(active, count, T0, known_at))
            _same(
                evaluate(as_given, suspend, T0, known_at),
                evaluate(withdrawn, suspend, T0, known_at),
            )
            suppressed = _rewritten(world, {"suppressed": "retracted"})
            _same(
                evaluate(as_given, count, T0, known_at),
                evaluate(engine(suppressed.inputs()), count, T0, known_at),
            )

    check()


def test_a_disputed_record_stops_counting_from_the_dispute_and_replays(engine: Engine) -> None:
    w = World(sources={"a": 1.0})
    w.subject(1, born=1980, registered=day(-5000))
    w.record(1, "finance.late", day(-100), value=10.0, source="a", received=day(-100))
    w.change(1, "disputed", day(-10))
    suspend = policy(WEIGHTED.replace("HOPS", "1"))
    data = engine(w.inputs())
    now = evaluate(data, suspend, T0).scores.to_pylist()[0]
    before = evaluate(data, suspend, T0, day(-11)).scores.to_pylist()[0]
    counted = evaluate(data, policy(WEIGHTED.replace("HOPS", "1") + COUNT), T0)
    assert now["money"] == 0.5  # no counting record: the neutral value
    assert before["money"] < 0.5  # as known before the objection, the late payment counted
    assert counted.scores.to_pylist()[0]["money"] == before["money"]
