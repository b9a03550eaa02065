"""Resolve a policy's type patterns against the record types present, into small tables.

The log holds few distinct types, so pattern matching ("the most specific rule wins") runs once
in Python over that list, and the plan joins records to the resulting tables by exact type.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pyarrow as pa

from socialcredit.policy.patterns import matches, most_specific
from socialcredit.policy.schema import HasRecord, Policy, walk
from socialcredit.timeutil import US_PER_DAY

RULES = pa.schema(
    [
        ("type", pa.string()),
        ("rule", pa.int64()),
        ("cat", pa.int64()),
        ("points", pa.float64()),
        ("per_unit", pa.float64()),
        ("cap", pa.float64()),
        ("half_life_days", pa.float64()),
        ("expires_us", pa.int64()),
        ("ceiling", pa.int64()),
    ]
)
LIST_TYPES = pa.schema(
    [
        ("type", pa.string()),
        ("list", pa.int64()),
        ("enter", pa.bool_()),
        ("duration_us", pa.int64()),
    ]
)
ATOM_TYPES = pa.schema([("type", pa.string()), ("atom", pa.int64())])


def record_atoms(policy: Policy) -> list[HasRecord]:
    """The distinct has_record conditions of the policy's measures, in order of appearance."""
    seen: list[HasRecord] = []
    for measure in policy.measures:
        for node in walk(measure.when):
            if isinstance(node, HasRecord) and node not in seen:
                seen.append(node)
    return seen


@dataclass(frozen=True)
class TypeMap:
    rules: ibis.Table
    list_types: ibis.Table
    atom_types: ibis.Table
    atoms: list[HasRecord]
    unmatched: list[str]  # types present in the log that no rule, list or condition uses


def build_typemap(policy: Policy, types: list[str]) -> TypeMap:
    categories = list(policy.categories)
    patterns = [rule.type for rule in policy.rules]
    rules = []
    for record_type in types:
        best = most_specific(patterns, record_type)
        if best is None:
            continue
        index = patterns.index(best)
        rule = policy.rules[index]
        rules.append(
            {
                "type": record_type,
                "rule": index,
                "cat": categories.index(rule.category),
                "points": rule.points,
                "per_unit": rule.per_unit,
                "cap": rule.cap,
                "half_life_days": float(rule.half_life) if rule.half_life else None,
                "expires_us": rule.expires * US_PER_DAY if rule.expires else None,
                "ceiling": rule.ceiling,
            }
        )
    list_rows = []
    for index, definition in enumerate(policy.lists):
        for record_type in types:
            for enter, group in ((True, definition.enter), (False, definition.exit)):
                if any(matches(p, record_type) for p in group):
                    list_rows.append(
                        {
                            "type": record_type,
                            "list": index,
                            "enter": enter,
                            "duration_us": definition.duration * US_PER_DAY,
                        }
                    )
    atoms = record_atoms(policy)
    atom_rows = [
        {"type": record_type, "atom": index}
        for index, atom in enumerate(atoms)
        for record_type in types
        if matches(atom.has_record.type, record_type)
    ]
    used = {r["type"] for r in rules} | {r["type"] for r in list_rows}
    used |= {r["type"] for r in atom_rows}
    return TypeMap(
        rules=ibis.memtable(pa.Table.from_pylist(rules, schema=RULES)),
        list_types=ibis.memtable(pa.Table.from_pylist(list_rows, schema=LIST_TYPES)),
        atom_types=ibis.memtable(pa.Table.from_pylist(atom_rows, schema=ATOM_TYPES)),
        atoms=atoms,
        unmatched=[t for t in types if t not in used],
    )
