"""Measures: which restrictions and privileges apply to whom, because of whom, and why.

For every subject s where a measure's `when` holds, the measure applies to each target:
`self`; `dependents` (t with a guardian edge s -> t valid at T); `legal_representatives` (p with
a legal_representative edge p -> s valid at T). `subjects`, when set, limits the kinds of
target. Reason codes are carried as a bit mask per row and decoded at the end.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.engine.conditions import compile_condition
from socialcredit.engine.data import PlanData
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
    """(measure, cause, since, mask) for every subject whose condition holds."""
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
                since=compiled.since.cast("int64"),
                mask=mask.cast("int64"),
            )
        )
    if not parts:
        return None
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def targets(data: PlanData, causes: ibis.Table, policy: Policy, at: Instant) -> ibis.Table:
    """Expand cause rows to (measure, sid, cause, via, since, mask), filtered by target kind."""
    wanted = [
        {"measure": i, "via": VIA[target]}
        for i, m in enumerate(policy.measures)
        for target in m.targets
    ]
    plan = causes.join(ibis.memtable(pa.Table.from_pylist(wanted, schema=TARGETS)), "measure")
    columns = ("measure", "sid", "cause", "via", "since", "mask")
    own = plan.filter(plan.via == 0).mutate(sid=plan.cause).select(*columns)
    parts = [own]
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
    rows = ibis.union(*parts) if len(parts) > 1 else own
    kinds = [
        {"measure": i, "kind": kind}
        for i, m in enumerate(policy.measures)
        for kind in (m.subjects or ["person", "organization", "authority"])
    ]
    allowed = ibis.memtable(pa.Table.from_pylist(kinds, schema=KINDS))
    rows = rows.join(known_subjects(data, at), "sid").join(allowed, ["measure", "kind"])
    return rows.select(*columns).distinct()


def empty_decisions(policy: Policy) -> pa.Table:
    """The decision rows of a policy without measures."""
    empty = pa.table(
        {
            name: pa.array([], pa.int64())
            for name in ("measure", "sid", "cause", "via", "since", "mask")
        }
    )
    return decode(empty, policy, [])


def decode(rows: pa.Table, policy: Policy, codes: list[list[str]]) -> pa.Table:
    """Final decision rows: names, kinds, authorities and reason lists instead of indexes.

    Millions of rows share a few (measure, via, mask) combinations: each is decoded once in
    Python and the rows take theirs by index (Arrow kernels, no Python object per row)."""
    masks = pc.dictionary_encode(rows["mask"].combine_chunks())
    key = pc.add(
        pc.multiply(
            pc.add(pc.multiply(rows["measure"].combine_chunks(), 3), rows["via"].combine_chunks()),
            len(masks.dictionary),
        ),
        masks.indices.cast(pa.int64()),
    )
    combos = pc.dictionary_encode(key)
    names, kinds, authorities, reasons = [], [], [], []
    for combo in combos.dictionary.to_pylist():
        group, mask_index = divmod(combo, len(masks.dictionary))
        index, via = divmod(group, 3)
        mask = masks.dictionary[mask_index].as_py()
        measure = policy.measures[index]
        listed = [code for bit, code in enumerate(codes[index]) if mask >> bit & 1]
        if via in COLLATERAL:
            listed.append(COLLATERAL[via])
        names.append(measure.name)
        kinds.append(measure.kind)
        authorities.append(measure.authority)
        reasons.append(listed)
    position = combos.indices
    return pa.table(
        {
            "measure": pa.array(names, pa.string()).take(position),
            "kind": pa.array(kinds, pa.string()).take(position),
            "authority": pa.array(authorities, pa.string()).take(position),
            "sid": rows["sid"].cast(pa.int64()),
            "cause_sid": rows["cause"].cast(pa.int64()),
            "since_us": rows["since"].cast(pa.int64()),
            "reasons": pa.array(reasons, pa.list_(pa.string())).take(position),
        }
    )
