"""Compile measure conditions to column expressions over the per-subject feature table.

Each condition gives `holds` (never null) and `since`: the instant from which it is known to
have held. `on_list` holds since the list entry; `has_record` since the latest qualifying
record; score and tier conditions, and `not`, are only known at T. `all` holds since the latest
of its parts, `any` since the earliest of its parts that hold.

Features: `score`, `tier`, `list_<i>` (since, null when not listed) and `atom_<i>` (the latest
occurred_at of the i-th has_record condition's types).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from socialcredit.policy.schema import (
    AllOf,
    AnyOf,
    Condition,
    HasRecord,
    NotOf,
    OnList,
    Policy,
    ScoreAtLeast,
    ScoreBelow,
    TierIn,
)
from socialcredit.timeutil import US_PER_DAY


@dataclass(frozen=True)
class Compiled:
    holds: ibis.BooleanValue
    since: ibis.IntegerValue
    reasons: list[tuple[str, ibis.BooleanValue]]  # (reason code, true when it applies)


def reason_code(node: Condition) -> str:
    if isinstance(node, ScoreBelow):
        return f"score_below:{node.score_below}"
    if isinstance(node, ScoreAtLeast):
        return f"score_at_least:{node.score_at_least}"
    if isinstance(node, TierIn):
        return f"tier_in:{','.join(node.tier_in)}"
    if isinstance(node, OnList):
        return f"on_list:{node.on_list}"
    if isinstance(node, HasRecord):
        return f"has_record:{node.has_record.type}"
    raise TypeError(f"no reason code for {type(node).__name__}")


def compile_condition(
    node: Condition, f: ibis.Table, policy: Policy, atoms: list[HasRecord], as_of: int
) -> Compiled:
    now = ibis.literal(as_of, type="int64")
    if isinstance(node, ScoreBelow):
        holds = (f.score < node.score_below).fill_null(False)
        return Compiled(holds, now, [(reason_code(node), holds)])
    if isinstance(node, ScoreAtLeast):
        holds = (f.score >= node.score_at_least).fill_null(False)
        return Compiled(holds, now, [(reason_code(node), holds)])
    if isinstance(node, TierIn):
        holds = f.tier.isin(node.tier_in).fill_null(False)
        return Compiled(holds, now, [(reason_code(node), holds)])
    if isinstance(node, OnList):
        index = [x.name for x in policy.lists].index(node.on_list)
        since = f[f"list_{index}"]
        holds = since.notnull()
        return Compiled(holds, since, [(reason_code(node), holds)])
    if isinstance(node, HasRecord):
        last = f[f"atom_{atoms.index(node)}"]
        holds = last.notnull()
        if node.has_record.within is not None:
            holds = holds & ((now - last) < node.has_record.within * US_PER_DAY)
        holds = holds.fill_null(False)
        return Compiled(holds, last, [(reason_code(node), holds)])
    if isinstance(node, AllOf | AnyOf):
        parts = [
            compile_condition(child, f, policy, atoms, as_of)
            for child in (node.all if isinstance(node, AllOf) else node.any)
        ]
        reasons = [reason for part in parts for reason in part.reasons]
        if isinstance(node, AllOf):
            holds = parts[0].holds
            for part in parts[1:]:
                holds = holds & part.holds
            since = ibis.greatest(*[p.since for p in parts]) if len(parts) > 1 else parts[0].since
            return Compiled(holds, since, reasons)
        holds = parts[0].holds
        for part in parts[1:]:
            holds = holds | part.holds
        held = [ibis.cases((p.holds, p.since), else_=ibis.null("int64")) for p in parts]
        since = ibis.least(*held) if len(held) > 1 else held[0]
        return Compiled(holds, since, reasons)
    if isinstance(node, NotOf):
        inner = compile_condition(node.not_, f, policy, atoms, as_of)
        reasons = [(f"not:{code}", ~flag) for code, flag in inner.reasons]
        return Compiled(~inner.holds, now, reasons)
    raise TypeError(f"unknown condition {type(node).__name__}")
