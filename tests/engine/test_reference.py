"""evaluate() against a naive, independent reading of docs/policy.md, on random worlds.

The subset property only shows that the engine agrees with itself; this one checks the math:
record counting, decay, caps, fixed point, both models, the network iteration, ceilings, edge
versions, list membership, under `known_at` and status changes.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine import EngineData, evaluate
from socialcredit.policy.patterns import any_match, most_specific
from socialcredit.policy.schema import Policy
from socialcredit.timeutil import US_PER_DAY, to_us
from tests.engine.conftest import Engine
from tests.engine.test_properties import POINTS, WEIGHTED, worlds
from tests.engine.world import T0, World, day, policy


class Reference:
    def __init__(self, w: World, p: Policy, known: int | None) -> None:
        self.w, self.p = w, p
        self.t = to_us(T0)
        self.k = known
        status: dict[int, str] = {}
        for change in sorted(w.status, key=lambda c: c["seq"]):
            if known is None or change["at_us"] <= known:
                status[change["rid"]] = change["status"]
        self.records = [
            r
            for r in w.records
            if r["occurred_us"] <= self.t
            and (known is None or r["received_us"] <= known)
            and status.get(r["rid"], "active") == "active"
        ]
        subjects = {s["sid"]: s for s in w.subjects}
        self.scope = sorted(s for s in subjects if self.scored(subjects[s]))

    def scored(self, s: dict[str, Any]) -> bool:
        p = self.p
        if s["kind"] not in p.subjects:
            return False
        if p.region and not (s["region"] or "").startswith(p.region):
            return False
        if (
            p.min_age is not None
            and s["kind"] == "person"
            and (s["born"] is None or s["born"] > T0.year - p.min_age)
        ):
            return False
        return self.k is None or s["registered_us"] <= self.k

    def edges(self) -> list[dict[str, Any]]:
        """The latest version of each edge known by K, if it is valid at T."""
        latest: dict[tuple[Any, ...], dict[str, Any]] = {}
        for e in sorted(self.w.relationships, key=lambda e: (e["recorded_us"], e["eid"])):
            if self.k is None or e["recorded_us"] <= self.k:
                latest[(e["src"], e["dst"], e["kind"], e["valid_from_us"])] = e
        return [
            e
            for e in latest.values()
            if (e["valid_from_us"] is None or e["valid_from_us"] <= self.t)
            and (e["valid_to_us"] is None or e["valid_to_us"] > self.t)
        ]

    def scores(self) -> dict[int, int]:
        p, t = self.p, self.t
        categories = list(p.categories)
        sums = {s: dict.fromkeys(categories, 0) for s in self.scope}
        ceiling: dict[int, int] = {}
        patterns = [r.type for r in p.rules]
        for r in self.records:
            best = most_specific(patterns, r["type"])
            if r["sid"] not in sums or best is None:
                continue
            rule = p.rules[patterns.index(best)]
            if rule.expires and not t < r["occurred_us"] + rule.expires * US_PER_DAY:
                continue
            raw = rule.points + rule.per_unit * (r["value"] or 0.0)
            if rule.cap is not None:
                raw = max(-rule.cap, min(rule.cap, raw))
            age = (t - r["occurred_us"]) / US_PER_DAY
            decay = 2.0 ** (-age / rule.half_life) if rule.half_life else 1.0
            weight = raw * self.w.sources[r["source"]] * decay
            sums[r["sid"]][rule.category] += math.floor(weight * 1e6 + 0.5)
            if rule.ceiling is not None:
                ceiling[r["sid"]] = min(ceiling.get(r["sid"], rule.ceiling), rule.ceiling)
        assert p.scale is not None
        low, high = p.scale.min, p.scale.max
        out = {}
        if p.model == "weighted":
            values = {
                s: {
                    c: 1 / (1 + math.exp(-(sums[s][c] / 1e6) / (p.categories[c].sensitivity or 1)))
                    for c in p.plain_categories
                }
                for s in self.scope
            }
            plain = sum(p.categories[c].weight or 0 for c in p.plain_categories)
            base = {
                s: sum((p.categories[c].weight or 0) * values[s][c] for c in p.plain_categories)
                / plain
                for s in self.scope
            }
            if p.network_category:
                net = p.categories[p.network_category].network
                assert net is not None
                a: dict[int, dict[int, float]] = {s: {} for s in self.scope}
                for e in self.edges():
                    x, y = e["src"], e["dst"]
                    if e["kind"] in net.relationships and x in a and y in a and x != y:
                        v = net.relationships[e["kind"]] * e["weight"]
                        a[x][y] = a[x].get(y, 0) + v
                        a[y][x] = a[y].get(x, 0) + v

                def n(x: dict[int, float]) -> dict[int, float]:
                    return {
                        s: sum(a[s][j] * x[j] for j in a[s]) / sum(a[s].values()) if a[s] else 0.5
                        for s in self.scope
                    }

                y_ = dict(base)
                for _ in range(net.hops - 1):
                    step = n(y_)
                    y_ = {
                        s: (1 - net.damping) * base[s] + net.damping * step[s] for s in self.scope
                    }
                final = n(y_)
                for s in self.scope:
                    values[s][p.network_category] = final[s]
            for s in self.scope:
                total = sum((p.categories[c].weight or 0) * values[s][c] for c in categories)
                out[s] = math.floor(low + (high - low) * total + 0.5)
        else:
            for s in self.scope:
                out[s] = max(
                    low, min(high, math.floor((p.base or 0) + sum(sums[s].values()) / 1e6 + 0.5))
                )
        return {s: min(v, ceiling.get(s, v)) for s, v in out.items()}

    def lists(self) -> dict[tuple[str, int], tuple[int, int]]:
        out = {}
        for definition in self.p.lists:
            duration = definition.duration * US_PER_DAY
            for s in self.scope:
                mine = [r for r in self.records if r["sid"] == s]
                valid = [
                    e["occurred_us"]
                    for e in mine
                    if any_match(definition.enter, e["type"])
                    and self.t < e["occurred_us"] + duration
                    and not any(
                        any_match(definition.exit, x["type"])
                        and e["occurred_us"] <= x["occurred_us"] <= self.t
                        for x in mine
                    )
                ]
                if valid:
                    out[(definition.name, s)] = (min(valid), max(valid) + duration)
        return out


CHECK = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


def test_scores_and_lists_match_the_reference(engine: Engine) -> None:
    @settings(CHECK, max_examples=30 if engine is EngineData else 3)
    @given(worlds(), st.integers(1, 3), st.sampled_from([None, -15]))
    def check(world: World, hops: int, known: int | None) -> None:
        k = None if known is None else day(known)
        data = engine(world.inputs())
        for p in (policy(WEIGHTED.replace("HOPS", str(hops))), policy(POINTS)):
            outcome = evaluate(data, p, T0, k)
            reference = Reference(world, p, None if k is None else to_us(k))
            assert {r["sid"]: r["score"] for r in outcome.scores.to_pylist()} == reference.scores()
            got = {
                (r["list"], r["sid"]): (r["since_us"], r["until_us"])
                for r in outcome.lists.to_pylist()
            }
            assert got == reference.lists()

    check()
