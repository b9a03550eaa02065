"""Retention: drop whole record partitions that no policy can count any more.

A record can matter to a policy for as long as its longest horizon: a rule's `expires`, a
list's `duration` (an entry counts that long; its exits are newer), a `has_record` condition's
`within`. A rule without `expires` or a `has_record` without `within` reads records of any
age, and then nothing may be purged. A partition (one month of `occurred_at`) is purged when
its last instant lies more than the longest horizon of every policy in force before `as_of`.

Purging is final: replays of evaluations from before the purge (`known_at`) no longer see
those records. Each partition folder is first renamed to a hidden name, then deleted, so that
a reader never sees a partly deleted month.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialcredit.errors import InvalidInput
from socialcredit.lake.layout import Lake
from socialcredit.policy.schema import HasRecord, Policy, walk


@dataclass(frozen=True)
class Purge:
    horizon_days: int
    cutoff: datetime  # partitions whose every record occurred before this are purged
    purged: list[Path]
    kept: int


def horizon_days(policy: Policy) -> int:
    """The longest time a record can matter to `policy`, in days."""
    longest = 0
    for index, rule in enumerate(policy.rules):
        if rule.expires is None:
            raise InvalidInput(
                f"{policy.policy}: rules[{index}].expires",
                f"rule {rule.type} never expires, so no record partition may be purged",
            )
        longest = max(longest, rule.expires)
    for definition in policy.lists:
        longest = max(longest, definition.duration)
    for measure in policy.measures:
        for node in walk(measure.when):
            if isinstance(node, HasRecord):
                if node.has_record.within is None:
                    raise InvalidInput(
                        f"{policy.policy}: measures.{measure.name}.when",
                        f"has_record {node.has_record.type} has no `within`, so it reads "
                        "records of any age and no record partition may be purged",
                    )
                longest = max(longest, node.has_record.within)
    return longest


def purge_partitions(
    lake: Lake, policies: list[Policy], as_of: datetime, dry_run: bool = False
) -> Purge:
    """Delete the record partitions older than every policy's horizon before `as_of`."""
    if not policies:
        raise InvalidInput("policy", "no policy in force: retention needs a horizon")
    days = max(horizon_days(p) for p in policies)
    cutoff = as_of - timedelta(days=days)
    purged, kept = [], 0
    for year, month, folder in lake.partitions():
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        if end <= cutoff:
            purged.append(folder)
        else:
            kept += 1
    if not dry_run:
        for folder in purged:
            hidden = folder.parent / f".purging-{folder.name}"
            folder.rename(hidden)
            shutil.rmtree(hidden)
            if not any(folder.parent.iterdir()):
                folder.parent.rmdir()
    return Purge(days, cutoff, purged, kept)
