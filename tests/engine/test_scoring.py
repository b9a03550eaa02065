"""The scoring math of docs/policy.md, checked against hand computations."""

from __future__ import annotations

import math

import pytest

from socialcredit.engine import evaluate
from socialcredit.engine.scoring import FIXED
from tests.engine.world import T0, World, day, policy, rows

WEIGHTED = """
policy: w
version: "1"
title: weighted
subjects: [person]
model: weighted
scale: {min: 350, max: 950}
categories:
  credit: {weight: 0.6, sensitivity: 40}
  conduct: {weight: 0.4, sensitivity: 20}
rules:
  - {type: finance.payment.late, category: credit, points: -5, per_unit: -0.5, cap: 60,
     half_life: 730d, expires: 5y, reason: Late payments}
  - {type: finance.*, category: credit, points: 2, reason: Other finance}
  - {type: finance.loan.*, category: credit, points: 7, reason: Loans}
  - {type: civic.volunteer, category: conduct, points: 3, reason: Volunteering}
  - {type: civic.fraud, category: conduct, points: -10, expires: 100d, ceiling: 600,
     reason: Fraud}
  - {type: civic.lie, category: conduct, points: -1, ceiling: 700, reason: Lie}
tiers: [{name: high, min: 700}, {name: mid, min: 600}, {name: low, min: 350}]
"""


def sigmoid(r: float, k: float) -> float:
    return 1.0 / (1.0 + math.exp(-r / k))


def fixed(w: float) -> float:
    """What the engine sums: w rounded to micro-points."""
    return math.floor(w * FIXED + 0.5) / FIXED


def weighted_score(credit: float, conduct: float) -> int:
    total = 0.6 * sigmoid(credit, 40) + 0.4 * sigmoid(conduct, 20)
    return math.floor(350 + 600 * total + 0.5)


def test_no_records_scores_the_middle_of_the_scale(world: World) -> None:
    w = world
    w.people(1)
    out = w.evaluate(policy(WEIGHTED))
    row = rows(out.scores)[1]
    assert row["score"] == 650
    assert row["credit"] == 0.5
    assert row["conduct"] == 0.5
    assert row["tier"] == "mid"


def test_raw_clamp_decay_and_weighted_score(world: World) -> None:
    w = world
    w.people(1)
    w.record(1, "finance.payment.late", day(-214), value=30)  # raw -20, decayed
    w.record(1, "finance.payment.late", day(-730), value=500)  # raw clamped to -60, halved
    w.record(1, "finance.account.opened", day(-10))  # matches finance.*: +2
    w.record(1, "civic.volunteer", day(-1), value=99)  # per_unit 0: value ignored
    out = w.evaluate(policy(WEIGHTED))
    credit = fixed(-20 * 2 ** (-214 / 730)) + fixed(-60 * 0.5) + 2
    row = rows(out.scores)[1]
    assert row["credit"] == pytest.approx(sigmoid(credit, 40), abs=1e-15)
    assert row["conduct"] == pytest.approx(sigmoid(3, 20), abs=1e-15)
    assert row["score"] == weighted_score(credit, 3)
    assert row["records"] == 4


def test_most_specific_rule_wins(world: World) -> None:
    w = world
    w.people(1, 2, 3)
    w.record(1, "finance.loan.repaid", day(-1))  # finance.loan.* (7) beats finance.* (2)
    w.record(2, "finance.card.issued", day(-1))  # only finance.*
    w.record(3, "finance.payment.late", day(0))  # exact beats both prefixes; value null = 0
    out = rows(w.evaluate(policy(WEIGHTED)).scores)
    assert out[1]["credit"] == pytest.approx(sigmoid(7, 40))
    assert out[2]["credit"] == pytest.approx(sigmoid(2, 40))
    assert out[3]["credit"] == pytest.approx(sigmoid(-5, 40))


def test_unmatched_types_do_not_count_and_are_reported(world: World) -> None:
    w = world
    w.people(1)
    w.record(1, "weather.rain", day(-1))
    out = w.evaluate(policy(WEIGHTED))
    assert rows(out.scores)[1]["records"] == 0
    assert out.unmatched_types == ["weather.rain"]


def test_half_life_halves_exactly(world: World) -> None:
    w = world
    w.people(1)
    w.record(1, "finance.payment.late", day(-730), value=10)  # raw -10, one half-life old
    row = rows(w.evaluate(policy(WEIGHTED)).scores)[1]
    assert row["credit"] == pytest.approx(sigmoid(-5, 40), abs=1e-15)


def test_expiry_boundary_and_future_records(world: World) -> None:
    w = world
    w.people(1, 2, 3)
    w.record(1, "civic.fraud", day(-100))  # T == occurred + expires: no longer counts
    w.record(2, "civic.fraud", day(-99.99))  # still counts
    w.record(3, "civic.fraud", day(1))  # in the future of T: not yet
    out = rows(w.evaluate(policy(WEIGHTED)).scores)
    assert out[1]["records"] == 0
    assert out[2]["records"] == 1
    assert out[3]["records"] == 0


def test_reliability_scales_weight(world: World) -> None:
    w = world
    w.sources = {"src": 1.0, "rumour": 0.25}
    w.people(1)
    w.record(1, "civic.volunteer", day(-1), source="rumour")
    row = rows(w.evaluate(policy(WEIGHTED)).scores)[1]
    assert row["conduct"] == pytest.approx(sigmoid(0.75, 20))


def test_ceiling_caps_while_it_counts_and_lowest_wins(world: World) -> None:
    w = world
    w.people(1, 2)
    for _ in range(20):
        w.record(1, "civic.volunteer", day(-5))
        w.record(2, "civic.volunteer", day(-5))
    w.record(1, "civic.lie", day(-3))  # ceiling 700
    w.record(1, "civic.fraud", day(-50))  # ceiling 600, lower: wins
    w.record(2, "civic.fraud", day(-150))  # expired: its ceiling no longer applies
    out = rows(w.evaluate(policy(WEIGHTED)).scores)
    assert out[1]["score"] == 600
    assert out[1]["ceiling"] == 600
    assert out[2]["ceiling"] is None
    assert out[2]["score"] == weighted_score(0, 60)


def test_status_log_and_known_at(world: World) -> None:
    w = world
    w.people(1)
    retracted = w.record(1, "civic.volunteer", day(-10))
    disputed = w.record(1, "civic.volunteer", day(-10))
    restored = w.record(1, "civic.volunteer", day(-10))
    late = w.record(1, "civic.volunteer", day(-10), received=day(-1))
    w.change(retracted, "retracted", day(-5))
    w.change(disputed, "disputed", day(-5))
    w.change(restored, "disputed", day(-5))
    w.change(restored, "active", day(-4))
    p = policy(WEIGHTED)
    now = rows(w.evaluate(p).scores)[1]
    assert now["records"] == 2  # restored and late
    before = rows(w.evaluate(p, known_at=day(-6)).scores)[1]
    assert before["records"] == 3  # nothing retracted yet; `late` not received yet
    between = rows(w.evaluate(p, known_at=day(-4.5)).scores)[1]
    assert between["records"] == 0
    del late


def test_points_model_clamps_and_rounds(world: World) -> None:
    points = """
    policy: p
    version: "1"
    title: points
    subjects: [person]
    model: points
    scale: {min: 0, max: 1100}
    base: 1000
    categories: {civic: {}, traffic: {}}
    rules:
      - {type: civic.heroic, category: civic, points: 30, reason: Heroic act}
      - {type: civic.half, category: civic, points: 0.5, reason: Half point}
      - {type: traffic.ticket, category: traffic, points: -5, reason: Ticket}
      - {type: traffic.drunk, category: traffic, points: -50, ceiling: 849, reason: Drunk}
    tiers: [{name: AAA, min: 1050}, {name: A, min: 960}, {name: C, min: 600}, {name: D, min: 0}]
    """
    w = world
    w.people(1, 2, 3, 4, 5)
    for _ in range(5):
        w.record(1, "civic.heroic", day(-1))  # 1150 -> clamped to 1100
    w.record(2, "traffic.ticket", day(-1))
    w.record(2, "civic.half", day(-1))  # 995.5 -> floor(996.0) = 996
    for _ in range(300):
        w.record(3, "traffic.ticket", day(-1))  # -500 -> clamped at 0? no: 500
    w.record(4, "civic.heroic", day(-1))
    w.record(4, "traffic.drunk", day(-1))  # 980, capped at 849
    out = rows(w.evaluate(policy(points)).scores)
    assert out[1]["score"] == 1100
    assert out[2]["score"] == 996
    assert out[2]["civic"] == 0.5
    assert out[2]["traffic"] == -5
    assert out[3]["score"] == 0
    assert out[4]["score"] == 849
    assert out[4]["tier"] == "C"
    assert out[5]["score"] == 1000
    assert out[1]["tier"] == "AAA"


def test_percentile_is_percent_rank_with_ties(world: World) -> None:
    w = world
    w.people(1, 2, 3, 4, 5)
    w.record(1, "civic.volunteer", day(-1))
    w.record(2, "civic.fraud", day(-1))
    out = w.evaluate(policy(WEIGHTED))
    r = rows(out.scores)
    # Scores: 2 lowest, then 3, 4, 5 tied at 650, then 1.
    assert r[2]["percentile"] == 0.0
    assert r[3]["percentile"] == r[4]["percentile"] == r[5]["percentile"] == 0.25
    assert r[1]["percentile"] == 1.0
    assert sum(n for _, n in out.distribution) == 5


def test_single_subject_percentile_is_zero(world: World) -> None:
    w = world
    w.people(1)
    assert rows(w.evaluate(policy(WEIGHTED)).scores)[1]["percentile"] == 0.0


def test_scope_by_kind_region_age_and_registration(world: World) -> None:
    scoped = WEIGHTED.replace(
        "subjects: [person]", 'subjects: [person]\nregion: "3710"\nmin_age: 18'
    )
    w = world
    w.subject(1)  # adult in 371082
    w.subject(2, region="110105")  # outside the region
    w.subject(3, born=T0.year - 17)  # turns 17 this year
    w.subject(4, born=T0.year - 18)  # turns 18 this year: scored
    w.subject(5, born=None)  # age unknown: not scored
    w.subject(6, kind="organization")  # kind not scored
    w.subject(7, registered=day(1))  # registered after known_at
    out = w.evaluate(policy(scoped), known_at=T0)
    assert sorted(rows(out.scores)) == [1, 4]


def test_evaluation_is_reproducible_to_the_byte(world: World) -> None:
    networked = WEIGHTED.replace(
        "conduct: {weight: 0.4, sensitivity: 20}",
        "conduct: {weight: 0.3, sensitivity: 20}\n  ties: {weight: 0.1, network: "
        "{relationships: {contact: 1.0, spouse: 2.5}, hops: 3, damping: 0.8}}",
    )
    w = world
    w.people(*range(1, 60))
    for sid in range(1, 60):
        w.edge(sid, (sid * 7) % 59 + 1, "contact", weight=1 + sid % 3)
        w.edge(sid, (sid * 13) % 59 + 1, "spouse")
        for n in range(sid % 7):
            w.record(sid, "finance.payment.late", day(-n * 37 - sid), value=n * 3.3)
            w.record(sid, "civic.volunteer", day(-n * 11 - 1))
    for p in (policy(WEIGHTED), policy(networked)):
        first = w.evaluate(p)
        assert first.scores.equals(w.evaluate(p).scores)
        shuffled = World(
            subjects=w.subjects[::-1],
            relationships=w.relationships[::-1],
            records=w.records[::-1],
            make=w.make,
        )
        data = shuffled.data()
        if data.engine == "duckdb":
            data.con.raw_sql("SET threads = 1")  # type: ignore[attr-defined]
        again = evaluate(data, p, T0)
        assert again.scores.equals(first.scores)
        assert again.distribution == first.distribution


def test_a_ceiling_is_explained_only_when_it_lowered_the_score(world: World) -> None:
    from socialcredit.engine import explain

    w = world
    w.people(1, 2)
    w.record(1, "civic.lie", day(-1))  # ceiling 700, score 649: not capped
    for _ in range(30):
        w.record(2, "civic.volunteer", day(-1))
    w.record(2, "civic.lie", day(-1))  # capped at 700
    p = policy(WEIGHTED)
    full = w.evaluate(p)
    for sid, capped in ((1, None), (2, 700)):
        outcome = w.evaluate(p, subjects=[sid], distribution=full.distribution, explain=True)
        found = explain(outcome, sid)
        assert found.ceiling == capped
        assert bool(found.ceiling_reasons) == (capped is not None)
    assert rows(full.scores)[2]["uncapped"] > 700
