"""Measures: which restrictions and privileges apply to whom, because of whom, and why.

For every subject s where a measure's `when` holds, the measure applies to each target:
`self`; `dependents` (t with a guardian edge s -> t valid at T); `legal_representatives` (p with
a legal_representative edge p -> s valid at T). `subjects`, when set, limits the kinds of
target. Reason codes are carried as a bit mask per row and decoded at the end.
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from socialcredit.engine.conditions import compile_condition
from socialcredit.engine.data import PlanData
from socialcredit.engine.overrides import Lifted
from socialcredit.engine.views import Instant, known_subjects, live_edges
from socialcredit.policy.schema import HasRecord, Policy

VIA = {"self": 0, "dependents": 1, "legal_representatives": 2}
COLLATERAL = {1: "collateral:guardian", 2: "collateral:legal_representative"}
TARGETS = pa.schema([("measure", pa.int64()), ("via", pa.int64())])
KINDS = pa.schema([("measure", pa.int64()), ("kind", pa.string())])


def reason_codes(
    policy: Policy, features: ibis.Table, atoms: list[HasRecord], at: Instant
) -> list[list[str]]:
    """Per measure, the reason code of each bit of its mask."""
    return [
        [code for code, _ in compile_condition(m.when, features, policy, atoms, at.as_of).reasons]
        for m in policy.measures
    ]


def cause_rows(
    features: ibis.Table, policy: Policy, atoms: list[HasRecord], at: Instant
) -> ibis.Table | None:
    """(measure, cause, kind, since, mask) for every subject whose condition holds (kind:
    the cause's)."""
    parts = []
    for index, measure in enumerate(policy.measures):
        compiled = compile_condition(measure.when, features, policy, atoms, at.as_of)
        if len(compiled.reasons) > 62:
            raise ValueError(f"measure {measure.name} has more than 62 conditions")
        mask = ibis.literal(0, type="int64")
        for bit, (_, flag) in enumerate(compiled.reasons):
            mask = mask + ibis.cases((flag, 1 << bit), else_=0)
        parts.append(
            features.filter(compiled.holds).select(
                measure=ibis.literal(index, type="int64"),
                cause=features.sid,
                kind=features.kind,
                since=compiled.since.cast("int64"),
                mask=mask.cast("int64"),
            )
        )
    if not parts:
        return None
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def targets(data: PlanData, causes: ibis.Table, policy: Policy, at: Instant) -> ibis.Table:
    """Expand cause rows to (measure, sid, cause, via, since, mask), filtered by target kind.

    A measure on the cause itself is one row per cause and takes the cause's kind; only the
    rows reached over edges look their target's kind up and drop repeats (two edges between
    the same subjects). At medium size that spares a join of 5.6 million rows to the
    registry and a DISTINCT over them."""
    wanted = [
        {"measure": i, "via": VIA[target]}
        for i, m in enumerate(policy.measures)
        for target in m.targets
    ]
    plan = causes.join(ibis.memtable(pa.Table.from_pylist(wanted, schema=TARGETS)), "measure")
    columns = ("measure", "sid", "cause", "via", "since", "mask")
    kinds = [
        {"measure": i, "kind": kind}
        for i, m in enumerate(policy.measures)
        for kind in (m.subjects or ["person", "organization", "authority"])
    ]
    allowed = ibis.memtable(pa.Table.from_pylist(kinds, schema=KINDS))
    own = plan.filter(plan.via == 0).mutate(sid=plan.cause)
    own = own.join(allowed, ["measure", "kind"]).select(*columns)
    parts = []
    # (target, relationship kind, the edge end that is the cause, the end that is the target)
    for target, relation, cause_end, target_end in (
        ("dependents", "guardian", "src", "dst"),
        ("legal_representatives", "legal_representative", "dst", "src"),
    ):
        if not any(target in m.targets for m in policy.measures):
            continue
        edges = live_edges(data, at, [relation])
        p = plan.filter(plan.via == VIA[target])
        joined = p.join(edges, p.cause == edges[cause_end])
        parts.append(
            joined.select(
                measure=joined.measure,
                sid=joined[target_end],
                cause=joined.cause,
                via=joined.via,
                since=joined.since,
                mask=joined.mask,
            )
        )
    if not parts:
        return own
    reached = ibis.union(*parts) if len(parts) > 1 else parts[0]
    reached = reached.join(known_subjects(data, at), "sid").join(allowed, ["measure", "kind"])
    return ibis.union(own, reached.select(*columns).distinct(), distinct=False)


DECISIONS = pa.schema(
    [
        ("measure", pa.string()),
        ("kind", pa.string()),
        ("authority", pa.string()),
        ("sid", pa.int64()),
        ("cause_sid", pa.int64()),
        ("since_us", pa.int64()),
        ("reasons", pa.list_(pa.string())),
    ]
)
COMBOS = pa.schema(
    [("measure", pa.int64()), ("via", pa.int64()), ("mask", pa.int64()), ("combo", pa.int32())]
)
LIFTED = pa.schema([("combo", pa.int32()), ("sid", pa.int64()), ("cause", pa.int64())])


def empty_decisions() -> pa.Table:
    """The decision rows of a policy without measures."""
    return DECISIONS.empty_table()


def decode(
    rows: ibis.Table,
    causes: ibis.Table,
    policy: Policy,
    codes: list[list[str]],
    lifted: set[Lifted] | None = None,
) -> ibis.Table:
    """The final decision rows, sorted by (measure, sid, cause, via): names, kinds, authorities
    and reason lists instead of indexes, without the rows the overrides in force lift (`lifted`,
    see `engine.overrides`: a row goes when its measure, subject, cause and reason list are an
    override's).

    Millions of rows share a few (measure, via, mask) combinations: the distinct (measure,
    mask) of the cause rows are decoded once in Python, each row is joined to its
    combination's number and takes the combination's strings by index into literal lists, so
    that no row passes through Python (the outcome files are written by the engine). The
    lookups are written after the sort, but DuckDB's optimizer moves them below it (EXPLAIN
    ANALYZE at medium size), so the sort carries the strings anyway: 1.3 s of 5.6 million."""
    keys: list[dict[str, int]] = []
    names, kinds, authorities, reasons = [], [], [], []
    found = causes.select("measure", "mask").distinct().to_pyarrow()
    for measure, mask in zip(found["measure"].to_pylist(), found["mask"].to_pylist(), strict=True):
        definition = policy.measures[measure]
        listed = [code for bit, code in enumerate(codes[measure]) if mask >> bit & 1]
        for target in definition.targets:
            via = VIA[target]
            keys.append({"measure": measure, "via": via, "mask": mask, "combo": len(keys)})
            names.append(definition.name)
            kinds.append(definition.kind)
            authorities.append(definition.authority)
            reasons.append([*listed, COLLATERAL[via]] if via in COLLATERAL else listed)
    combos = ibis.memtable(pa.Table.from_pylist(keys, schema=COMBOS))
    joined = rows.join(combos, ["measure", "via", "mask"])
    gone = _lifted_rows(lifted or set(), names, reasons)
    if gone:
        lifted_table = ibis.memtable(pa.Table.from_pylist(gone, schema=LIFTED))
        joined = joined.anti_join(lifted_table, ["combo", "sid", "cause"])
    ordered = joined.order_by("measure", "sid", "cause", "via")
    combo = ordered["combo"]

    def pick(values: list[Any], kind: str) -> ibis.Value:
        # Never an empty literal (Spark types `array()` as an array of NULL); with no
        # combination there is no row to take the placeholder.
        placeholder = [""] if kind == "string" else [[""]]
        return ibis.literal(values or placeholder, type=f"array<{kind}>")[combo]

    return ordered.select(
        measure=pick(names, "string"),
        kind=pick(kinds, "string"),
        authority=pick(authorities, "string"),
        sid=ordered["sid"].cast("int64"),
        cause_sid=ordered["cause"].cast("int64"),
        since_us=ordered["since"].cast("int64"),
        reasons=pick(reasons, "array<string>"),
    )


def _lifted_rows(
    lifted: set[Lifted], names: list[str], reasons: list[list[str]]
) -> list[dict[str, int]]:
    """The (combo, sid, cause) of each lifted row: its combination is the one with the
    override's measure and exact reason list (decoded once, in Python, like the names)."""
    combos: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for combo, (name, listed) in enumerate(zip(names, reasons, strict=True)):
        combos.setdefault((name, tuple(listed)), []).append(combo)
    return [
        {"combo": combo, "sid": row.sid, "cause": row.cause_sid}
        for row in sorted(lifted, key=lambda r: (r.measure, r.sid, r.cause_sid, r.reasons))
        for combo in combos.get((row.measure, row.reasons), [])
    ]
