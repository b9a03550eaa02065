"""A tiny world builder for engine tests: subjects, edges, records, statuses -> Inputs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from socialcredit.engine import EngineData, Inputs, Outcome, PlanData, evaluate
from socialcredit.policy.load import load_policy
from socialcredit.policy.schema import Policy
from socialcredit.timeutil import to_us

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def as_read(table: pa.Table) -> pa.Table:
    """`table` as any writer's Parquet file of it reads back: every column nullable (DuckDB
    marks the columns it knows hold no null as required) and a list's items named "item"
    (Parquet's "element")."""

    def plain(kind: pa.DataType) -> pa.DataType:
        return pa.list_(plain(kind.value_type)) if pa.types.is_list(kind) else kind

    schema = pa.schema([pa.field(f.name, plain(f.type), nullable=True) for f in table.schema])
    return table.cast(schema)


def day(n: float) -> datetime:
    """T0 shifted by n days (negative: before T0)."""
    return T0 + timedelta(days=n)


def policy(text: str) -> Policy:
    return load_policy(textwrap.dedent(text)).policy


@dataclass
class World:
    subjects: list[dict[str, Any]] = field(default_factory=list)
    relationships: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    status: list[dict[str, Any]] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, float] = field(default_factory=lambda: {"src": 1.0})
    make: Callable[[Inputs], PlanData] = EngineData  # the engine (see tests/engine/conftest.py)

    def subject(
        self,
        sid: int,
        kind: str = "person",
        region: str = "371082",
        born: int | None = 1980,
        registered: datetime | None = None,
    ) -> int:
        self.subjects.append(
            {
                "sid": sid,
                "kind": kind,
                "region": region,
                "born": born,
                "registered_us": to_us(registered or day(-10_000)),
            }
        )
        return sid

    def people(self, *sids: int) -> None:
        for sid in sids:
            self.subject(sid)

    def edge(
        self,
        src: int,
        dst: int,
        kind: str,
        weight: float = 1.0,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        recorded: datetime | None = None,
    ) -> None:
        self.relationships.append(
            {
                "eid": len(self.relationships) + 1,
                "src": src,
                "dst": dst,
                "kind": kind,
                "weight": weight,
                "valid_from_us": to_us(valid_from) if valid_from else None,
                "valid_to_us": to_us(valid_to) if valid_to else None,
                "recorded_us": to_us(recorded or day(-10_000)),
            }
        )

    def record(
        self,
        sid: int,
        record_type: str,
        at: datetime,
        value: float | None = None,
        source: str = "src",
        received: datetime | None = None,
    ) -> int:
        rid = len(self.records) + 1
        self.records.append(
            {
                "rid": rid,
                "source": source,
                "record_id": f"r{rid}",
                "sid": sid,
                "type": record_type,
                "occurred_us": to_us(at),
                "received_us": to_us(received or at),
                "value": value,
            }
        )
        return rid

    def change(self, rid: int, status: str, at: datetime) -> None:
        self.status.append(
            {"rid": rid, "status": status, "at_us": to_us(at), "seq": len(self.status) + 1}
        )

    def override(
        self,
        policy: str,
        measure: str,
        sid: int,
        reasons: list[str],
        granted: datetime,
        until: datetime | None = None,
        cause: int | None = None,
    ) -> None:
        """A reviewer lifts `measure` of `policy` from `sid` (because of `cause`, itself when
        None) for the decision with `reasons`."""
        self.overrides.append(
            {
                "policy": policy,
                "measure": measure,
                "sid": sid,
                "cause_sid": sid if cause is None else cause,
                "reasons": reasons,
                "granted_us": to_us(granted),
                "until_us": to_us(until) if until else None,
            }
        )

    def inputs(self) -> Inputs:
        return Inputs.from_rows(
            subjects=self.subjects,
            relationships=self.relationships,
            records=self.records,
            status=self.status,
            overrides=self.overrides,
            sources=[{"source": s, "reliability": r} for s, r in self.sources.items()],
        )

    def data(self) -> PlanData:
        return self.make(self.inputs())

    def evaluate(self, p: Policy, as_of: datetime = T0, **options: Any) -> Outcome:
        return evaluate(self.data(), p, as_of, **options)


def rows(table: pa.Table) -> dict[int, dict[str, Any]]:
    """Rows of a scores table by sid."""
    return {row["sid"]: row for row in table.to_pylist()}
