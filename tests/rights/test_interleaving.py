"""Human decisions are log data: any interleaving of records, objections, answers, appeals,
overrides, sweeps and evaluations, on a clock that moves, leaves every stored evaluation equal
to a fresh full evaluation of the final log at the same instant (its as_of and known_at), and the
gate's answers after later overrides equal a fresh current evaluation's decisions.
"""

from __future__ import annotations

import contextlib
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from socialcredit.errors import Conflict, NotFound, SocialCreditError
from socialcredit.ingest.accept import accept_records
from socialcredit.ingest.files import import_relationships_file, import_subjects_file
from socialcredit.outcomes.gate import GateIndex
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.policy.load import load_policy
from socialcredit.rights import appeals, objections
from socialcredit.rights.sweep import sweep
from socialcredit.settings import Settings
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import create_engine, init_store, writing
from socialcredit.store.policies import add_policy
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import decisions, evaluations, outcome_lists, outcome_scores
from socialcredit.store.schema import objections as objection_rows
from socialcredit.store.schema import records as record_rows
from socialcredit.store.sources import add_source, get_source
from socialcredit.timeutil import format_instant, now
from tests.rights.conftest import CHILD, DEBTOR, OTHER, POLICY, T0, send

pytestmark = pytest.mark.slow

SCORED = """
policy: s
version: "1"
title: points
subjects: [person]
model: points
base: 1000
scale: {min: 0, max: 2000}
categories: {all: {}}
disputes: {deadline: 10d, while_disputed: suspend}
rules:
  - {type: court.dishonest.refuses, category: all, points: -100, reason: listed}
  - {type: police.watch, category: all, points: -40, half_life: 30d, reason: watched}
"""
PEOPLE = (DEBTOR, CHILD, OTHER)
TYPES = ("court.dishonest.refuses", "police.watch", "court.judgment.fulfilled")
OPERATOR = Principal("cli:property", "operator")

ops = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.sampled_from(PEOPLE), st.sampled_from(TYPES)),
        st.tuples(st.just("object"), st.integers(0, 20)),
        st.tuples(st.just("answer"), st.sampled_from(("verified", "retracted"))),
        st.tuples(st.just("advance"), st.integers(0, 25)),
        st.tuples(st.just("sweep")),
        st.tuples(st.just("evaluate")),
        st.tuples(
            st.just("override"), st.sampled_from((DEBTOR, CHILD)), st.sampled_from((None, 3, 40))
        ),
    ),
    min_size=3,
    max_size=10,
)


def build(home: Path, clock: pytest.MonkeyPatch) -> tuple[Settings, sa.Engine]:
    clock.setenv("SCS_NOW", format_instant(T0 - timedelta(days=400)) or "")
    config = Settings(home=home)
    engine = create_engine(config)
    init_store(engine)
    people = home / "people.csv"
    people.write_text(
        "identifier,kind,name\n"
        f"{DEBTOR},person,Debtor\n{CHILD},person,Child\n{OTHER},person,Other\n"
    )
    import_subjects_file(engine, people)
    edges = home / "edges.csv"
    edges.write_text(f"from,to,kind\n{DEBTOR},{CHILD},guardian\n")
    import_relationships_file(engine, edges)
    with engine.begin() as conn:
        add_source(conn, "court", "court")
        add_policy(conn, load_policy(POLICY))
        add_policy(conn, load_policy(SCORED))
    send(engine, "d0", DEBTOR, "court.dishonest.refuses", T0 - timedelta(days=400))
    return config, engine


def rows(engine: sa.Engine, evaluation_id: int) -> dict[str, Any]:
    """An evaluation's stored outcome, without its id."""
    with engine.connect() as conn:

        def of(table: sa.Table, *columns: sa.ColumnElement[Any]) -> list[tuple[Any, ...]]:
            query = sa.select(*columns).where(table.c.evaluation_id == evaluation_id)
            return sorted(tuple(r) for r in conn.execute(query))

        return {
            "scores": of(outcome_scores, outcome_scores.c.subject_id, outcome_scores.c.score),
            "lists": of(
                outcome_lists,
                outcome_lists.c.list_name,
                outcome_lists.c.subject_id,
                outcome_lists.c.since,
            ),
            "decisions": of(
                decisions,
                decisions.c.measure,
                decisions.c.subject_id,
                decisions.c.cause_subject_id,
                decisions.c.since,
            ),
        }


class World:
    """The store under test and its clock. Every step happens a second after the one before:
    with the clock frozen, a write stamped at an evaluation's own instant would be part of that
    evaluation's replay (docs/rights.md), which is not how time passes."""

    def __init__(self, config: Settings, engine: sa.Engine, clock: pytest.MonkeyPatch) -> None:
        self.config, self.engine, self.clock = config, engine, clock
        self.now = T0
        self.sent = 0
        self.tick(timedelta())

    def tick(self, by: timedelta) -> None:
        self.now += by
        self.clock.setenv("SCS_NOW", format_instant(self.now) or "")

    def apply(self, op: tuple[Any, ...]) -> None:
        self.tick(timedelta(seconds=1))
        kind, engine = op[0], self.engine
        if kind == "advance":
            self.tick(timedelta(days=op[1]))
        elif kind == "record":
            self.sent += 1
            row = {"record_id": f"r{self.sent}", "subject": op[1], "type": op[2]}
            row["occurred_at"] = format_instant(self.now - timedelta(days=1)) or ""
            with writing(engine) as conn:  # received now, as ingest stamps it
                accept_records(conn, get_source(conn, "court"), [(1, row)], now())
        elif kind == "object":
            with engine.connect() as conn:
                found = conn.execute(
                    sa.select(
                        record_rows.c.source_id, record_rows.c.record_id, record_rows.c.subject_id
                    ).order_by(record_rows.c.id)
                ).all()
            row = found[op[1] % len(found)]
            ref = objections.RecordRef(row.source_id, row.record_id)
            # refused (already under objection, or no longer counting): nothing changed
            with contextlib.suppress(SocialCreditError):
                objections.file(engine, OPERATOR, OPERATOR.name, ref, row.subject_id, "not mine")
        elif kind == "answer":
            with engine.connect() as conn:
                query = sa.select(objection_rows.c.id).where(objection_rows.c.resolution.is_(None))
                open_ = conn.execute(query).scalars().first()
            if open_ is not None:
                with contextlib.suppress(SocialCreditError):  # past its deadline: refused
                    objections.answer(engine, OPERATOR, "source:court", open_, op[1])
        elif kind == "sweep":
            sweep(engine, self.config)
        elif kind == "evaluate":
            run_evaluations(engine, self.config)
        elif kind == "override":
            _override(engine, op[1], op[2], self.now)


def _override(engine: sa.Engine, who: str, days: int | None, now: datetime) -> bool:
    """Appeal `who`'s flight ban and override it; False when the refusal is one the
    interleaving allows (the measure does not apply now, or an appeal of it is open)."""
    until = None if days is None else now + timedelta(days=days)
    try:
        with writing(engine) as conn:
            subject = find_subject(conn, who)
            appeal = appeals.file_appeal(conn, subject, "n", "flight_ban", "wrong", "cli:property")
    except (Conflict, NotFound):
        return False
    with writing(engine) as conn:
        appeals.decide_appeal(conn, appeal.id, "override", "checked", "cli:review", until)
    return True


def test_the_override_step_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The property's override step does what it says where the measure applies (it is no
    step that always fails quietly), and refuses quietly where it does not."""
    config, engine = build(tmp_path, monkeypatch)
    try:
        world = World(config, engine, monkeypatch)
        run_evaluations(engine, config)
        world.tick(timedelta(seconds=1))
        assert _override(engine, DEBTOR, 3, world.now)
        assert not _override(engine, DEBTOR, 3, world.now)  # decided: the ban is lifted now
        assert not _override(engine, OTHER, None, world.now)  # no ban to appeal
    finally:
        engine.dispose()


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # shrinking one of these runs takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
def test_any_interleaving_equals_a_fresh_evaluation_of_the_final_log(
    steps: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config, engine = build(Path(folder), monkeypatch)
        try:
            world = World(config, engine, monkeypatch)
            run_evaluations(engine, config)
            for op in steps:
                world.apply(op)
            world.tick(timedelta(seconds=1))
            run_evaluations(engine, config)
            with engine.connect() as conn:
                stored = conn.execute(
                    sa.select(
                        evaluations.c.id,
                        evaluations.c.policy_name,
                        evaluations.c.as_of,
                        evaluations.c.known_at,
                    ).order_by(evaluations.c.id)
                ).all()
            world.tick(timedelta(seconds=1))
            for e in stored:
                fresh = run_evaluations(
                    engine, config, [e.policy_name], as_of=e.as_of, known_at=e.known_at
                )
                assert rows(engine, fresh.results[0].evaluation_id) == rows(engine, e.id), e
            # Overrides granted after the last evaluation: the gate answers as a fresh current
            # evaluation of the final log does.
            _override(engine, DEBTOR, None, world.now)
            _override(engine, CHILD, 5, world.now)
            index = GateIndex(engine, refresh=0.0)
            gate = {p: b'"applies":true' in index.check_json("flight_ban", p)[1] for p in PEOPLE}
            world.tick(timedelta(seconds=1))
            current = run_evaluations(engine, config, ["n"]).results[0].evaluation_id
            with engine.connect() as conn:
                banned = {
                    p: conn.execute(
                        sa.select(sa.func.count()).where(
                            decisions.c.evaluation_id == current,
                            decisions.c.measure == "flight_ban",
                            decisions.c.subject_id == find_subject(conn, p).id,
                        )
                    ).scalar_one()
                    > 0
                    for p in PEOPLE
                }
            assert gate == banned
        finally:
            engine.dispose()
