"""Overrides: a reviewer's decision that a measure does not apply to a subject.

An override is log data (`store.schema.overrides`), granted at an instant, optionally until
another. It lifts the decision row (measure, subject, cause subject) of an evaluation at `T`
known at `K` when it was granted by `K` (every override when `K` is None), `T` is before its
`until`, and the decision's reason codes are those the reviewer saw: a changed cause (another
list, a score condition instead of a list) reapplies the measure. `in_force` is that one
predicate; the evaluation's measures stage and the gate index (`outcomes.gate`) both ask it,
so an override answers the same at the gate as in the next evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

OVERRIDES = pa.schema(
    [
        ("policy", pa.string()),
        ("measure", pa.string()),
        ("sid", pa.int64()),
        ("cause_sid", pa.int64()),
        ("reasons", pa.list_(pa.string())),
        ("granted_us", pa.int64()),
        ("until_us", pa.int64()),  # null: until its cause changes
    ]
)


@dataclass(frozen=True)
class Lifted:
    """A decision row an override lifts: its measure, subject, cause and reason codes."""

    measure: str
    sid: int
    cause_sid: int
    reasons: tuple[str, ...]


def in_force(granted_us: int, until_us: int | None, as_of_us: int, known_us: int | None) -> bool:
    """Whether an override granted at `granted_us`, until `until_us`, holds in an evaluation
    at `as_of_us` as known at `known_us` (None: everything the store knows)."""
    if known_us is not None and granted_us > known_us:
        return False
    return until_us is None or as_of_us < until_us


def lifted(overrides: pa.Table, policy: str, as_of_us: int, known_us: int | None) -> set[Lifted]:
    """The decision rows of `policy` that the overrides in force lift (few: human decisions)."""
    found: set[Lifted] = set()
    for row in overrides.to_pylist():
        if row["policy"] != policy:
            continue
        if in_force(row["granted_us"], row["until_us"], as_of_us, known_us):
            found.add(Lifted(row["measure"], row["sid"], row["cause_sid"], tuple(row["reasons"])))
    return found
