"""What an evaluation returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from socialcredit.policy.schema import Policy


@dataclass(frozen=True)
class Outcome:
    """The result of `evaluate`, every table sorted so that equal inputs give equal bytes.

    scores:    sid, score, tier, percentile, ceiling, uncapped (the score before ceilings),
               records, then one column per category
               (S_c in the weighted model, R_c in the points model). Empty for model: none.
    lists:     list, sid, since_us, until_us
    decisions: measure, kind, authority, sid, cause_sid, since_us, reasons
    contributions, influences: only when evaluated with explain=True (see engine.explain).
    With `written_to`, scores, lists and decisions are empty: their rows are in the files.
    """

    policy: Policy
    digest: str
    as_of: datetime
    known_at: datetime | None
    scores: pa.Table
    lists: pa.Table
    decisions: pa.Table
    distribution: list[tuple[int, int]]
    timings: dict[str, float] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)  # peak resident bytes after each stage
    counts: dict[str, int] = field(default_factory=dict)
    contributions: pa.Table | None = None
    influences: pa.Table | None = None
    unmatched_types: list[str] = field(default_factory=list)
    written_to: Path | None = None  # evaluate(write_to=…): the tables are in files there
