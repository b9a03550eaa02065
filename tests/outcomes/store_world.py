"""Small random worlds written straight into a store, and micro-batches of log writes on them
(records, supersessions, status changes, overrides, relationships, new subjects), stamped by a
frozen clock: what the refresh tests replay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from socialcredit.store.db import writing
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.schema import (
    appeals,
    decisions,
    identifiers,
    overrides,
    record_status,
    records,
    relationships,
    sources,
    subjects,
)
from socialcredit.timeutil import now
from tests.engine.test_properties import TYPES

NOW = "2026-01-01T00:00:00Z"
KINDS = ["contact", "spouse", "household", "guardian", "legal_representative"]


def day(n: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=now().tzinfo) + timedelta(days=n)


@dataclass
class Op:
    """One log write: its kind and its drawn values (indexes are taken modulo what exists)."""

    kind: str
    values: dict[str, Any] = field(default_factory=dict)


def ops() -> st.SearchStrategy[Op]:
    index = st.integers(0, 10_000)
    return st.one_of(
        st.builds(
            lambda s, t, d, v, src: Op("record", {"s": s, "t": t, "d": d, "v": v, "src": src}),
            index,
            st.sampled_from(TYPES),
            st.integers(-900, 0),
            st.one_of(st.none(), st.sampled_from([-20.0, 3.0, 40.0, 110.0])),
            st.sampled_from(["a", "b"]),
        ),
        st.builds(lambda r, d: Op("supersede", {"r": r, "d": d}), index, st.integers(-900, 0)),
        st.builds(
            lambda r, s: Op("status", {"r": r, "s": s}),
            index,
            st.sampled_from(["retracted", "disputed", "active"]),
        ),
        st.builds(lambda i: Op("override", {"i": i}), index),
        st.builds(
            lambda a, b, k, w, end: Op("edge", {"a": a, "b": b, "k": k, "w": w, "end": end}),
            index,
            index,
            st.sampled_from(KINDS),
            st.sampled_from([0.5, 1.0, 3.0]),
            st.booleans(),
        ),
        st.builds(
            lambda kind, born, link: Op("subject", {"kind": kind, "born": born, "link": link}),
            st.sampled_from(["person", "person", "organization"]),
            st.sampled_from([1950, 1990, 2015, None]),
            st.one_of(st.none(), index),
        ),
    )


def batches(max_batches: int = 4) -> st.SearchStrategy[list[list[Op]]]:
    return st.lists(st.lists(ops(), min_size=1, max_size=4), min_size=1, max_size=max_batches)


class StoreWorld:
    """Writes subjects, edges, records and the rest into a store, each write in a transaction
    that holds the log lock (as ingest does)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.subjects: list[int] = []
        self.records: list[int] = []
        self.edges: list[dict[str, Any]] = []
        self.serial = 0
        with writing(engine) as conn:
            for name, reliability in (("a", 1.0), ("b", 0.5)):
                conn.execute(
                    sources.insert().values(
                        id=name, name=name, kind="test", reliability=reliability, added_at=now()
                    )
                )

    def subject(self, kind: str = "person", born: int | None = 1980) -> int:
        with writing(self.engine) as conn:
            sid = conn.execute(
                subjects.insert()
                .values(
                    kind=kind,
                    name=f"s{len(self.subjects)}",
                    region="371082",
                    born=born if kind == "person" else None,
                    registered_at=now(),
                )
                .returning(subjects.c.id)
            ).scalar_one()
            conn.execute(
                identifiers.insert().values(
                    identifier=f"ext:s{sid}", subject_id=sid, scheme="ext", ordinal=0
                )
            )
        self.subjects.append(int(sid))
        return int(sid)

    def edge(
        self,
        a: int,
        b: int,
        kind: str,
        weight: float = 1.0,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
    ) -> None:
        row = {
            "from_id": a,
            "to_id": b,
            "kind": kind,
            "weight": weight,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        with writing(self.engine) as conn:
            conn.execute(relationships.insert().values(**row, recorded_at=now()))
        self.edges.append(row)

    def record(
        self,
        sid: int,
        kind: str,
        occurred: datetime,
        value: float | None = None,
        source: str = "a",
        supersedes: str | None = None,
    ) -> int:
        self.serial += 1
        with writing(self.engine) as conn:
            pk = conn.execute(
                records.insert()
                .values(
                    source_id=source,
                    record_id=f"r{self.serial}",
                    subject_id=sid,
                    type=kind,
                    occurred_at=occurred,
                    received_at=now(),
                    value=value,
                    supersedes=supersedes,
                )
                .returning(records.c.id)
            ).scalar_one()
        self.records.append(int(pk))
        return int(pk)

    def status(self, pk: int, status: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(
                record_status.insert().values(
                    record_pk=pk, status=status, changed_at=now(), reason="test", actor="test"
                )
            )

    def override(self, policy: str, pick: int) -> bool:
        """Lift one decision row of the policy's current evaluation (the `pick`-th); False
        when it has none."""
        with writing(self.engine) as conn:
            evaluation = latest_evaluation(conn, policy)
            rows = conn.execute(
                sa.select(decisions)
                .where(decisions.c.evaluation_id == evaluation.id)
                .order_by(decisions.c.id)
            ).all()
            if not rows:
                return False
            d = rows[pick % len(rows)]
            appeal = conn.execute(
                appeals.insert()
                .values(
                    subject_id=d.subject_id,
                    policy_name=policy,
                    measure=d.measure,
                    cause_subject_id=d.cause_subject_id,
                    reasons=list(d.reasons),
                    since=d.since,
                    evaluation_id=evaluation.id,
                    grounds="test",
                    filed_at=now(),
                    filed_by="test",
                    due_at=now(),
                    status="overridden",
                )
                .returning(appeals.c.id)
            ).scalar_one()
            conn.execute(
                overrides.insert().values(
                    subject_id=d.subject_id,
                    policy_name=policy,
                    measure=d.measure,
                    cause_subject_id=d.cause_subject_id,
                    reasons=list(d.reasons),
                    granted_at=now(),
                    until=None,
                    appeal_id=appeal,
                )
            )
        return True

    def apply(self, op: Op, policy: str) -> None:
        v = op.values
        people = self.subjects
        if op.kind == "record" and people:
            sid = people[v["s"] % len(people)]
            self.record(sid, v["t"], day(v["d"]), v["v"], v["src"])
        elif op.kind == "supersede" and self.records:
            old = self.records[v["r"] % len(self.records)]
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(records).where(records.c.id == old)).one()
            self.record(row.subject_id, row.type, day(v["d"]), None, row.source_id, row.record_id)
            self.status(old, "superseded")
        elif op.kind == "status" and self.records:
            self.status(self.records[v["r"] % len(self.records)], v["s"])
        elif op.kind == "override":
            self.override(policy, v["i"])
        elif op.kind == "edge" and len(people) > 1:
            a, b = people[v["a"] % len(people)], people[v["b"] % len(people)]
            if a == b:
                return
            if v["end"] and self.edges:  # a new version that ends an existing edge
                e = self.edges[v["a"] % len(self.edges)]
                self.edge(
                    e["from_id"], e["to_id"], e["kind"], e["weight"], e["valid_from"], day(-1)
                )
            else:
                self.edge(a, b, v["k"], v["w"])
        elif op.kind == "subject":
            sid = self.subject(v["kind"], v["born"])
            if v["link"] is not None and len(people) > 1:
                other = people[v["link"] % (len(people) - 1)]
                kind = "legal_representative" if v["kind"] == "organization" else "contact"
                self.edge(other, sid, kind)
