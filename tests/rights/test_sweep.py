"""The sweep on a frozen clock: time alone ends a list term, and the sweep follows to the
microsecond with a fresh evaluation and its notices."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.schema import audit_log, notices, outcome_lists
from socialcredit.timeutil import format_instant
from tests.api.conftest import scs


def _sweep(settings: Settings, monkeypatch: pytest.MonkeyPatch, at: str) -> dict[str, object]:
    monkeypatch.setenv("SCS_NOW", at)
    result: dict[str, object] = json.loads(scs(settings, "rights", "sweep", "--format", "json"))
    return result


def test_a_list_term_that_ends_is_lifted_by_the_sweep_with_a_notice(
    village: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(village)
    with engine.connect() as conn:
        serving = [latest_evaluation(conn, p).id for p in ("national", "sesame")]
        first = conn.execute(
            sa.select(outcome_lists)
            .where(outcome_lists.c.evaluation_id.in_(serving))
            .order_by(outcome_lists.c.until, outcome_lists.c.subject_id)
            .limit(1)
        ).one()
        before = int(conn.execute(sa.select(sa.func.max(notices.c.id))).scalar_one())
    ends = first.until
    early = _sweep(village, monkeypatch, format_instant(ends - timedelta(microseconds=1)) or "")
    counts = early["counts"]
    assert isinstance(counts, dict)
    assert counts["list_terms_ended"] == 0 and early["evaluations"] == []
    late = _sweep(village, monkeypatch, format_instant(ends) or "")
    counts = late["counts"]
    assert isinstance(counts, dict) and isinstance(late["evaluations"], list)
    assert counts["list_terms_ended"] >= 1 and len(late["evaluations"]) == 2
    assert counts["notices_made"] >= 1
    with engine.connect() as conn:
        exited = list(
            conn.execute(
                sa.select(notices).where(
                    notices.c.id > before,
                    notices.c.kind == "list_exited",
                    notices.c.topic == first.list_name,
                    notices.c.subject_id == first.subject_id,
                )
            )
        )
        assert len(exited) == 1
        assert exited[0].body["left_at"] == format_instant(ends)
        runs = list(
            conn.execute(
                sa.select(audit_log).where(
                    audit_log.c.action == "evaluation.run", audit_log.c.actor == "system:sweep"
                )
            )
        )
        assert len(runs) == 2
        # a second sweep at the same instant has nothing to do
    again = _sweep(village, monkeypatch, format_instant(ends) or "")
    assert again["evaluations"] == []
    engine.dispose()


def test_evaluate_as_of_accepts_any_instant_up_to_the_clock(
    village: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from socialcredit.cli import app

    monkeypatch.setenv("SCS_NOW", "2028-06-01T00:00:00Z")
    assert "as of 2028-06-01T00:00:00Z" in scs(village, "evaluate", "--as-of", "2028-06-01")
    env = {"SCS_HOME": str(village.home), "SCS_DATABASE_URL": village.database_url}
    later = CliRunner().invoke(app, ["evaluate", "--as-of", "2028-06-01T00:00:01Z"], env=env)
    assert later.exit_code == 2 and "as-of" in later.output and "future" in later.output
