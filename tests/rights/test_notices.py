"""Notices: each current evaluation compared with the one serving before it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.outcomes.runs import run_evaluations, store_outcome
from socialcredit.rights.notices import RESPOND_DAYS, Pending, list_notices
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import decisions, notice_outbox, notices, outcome_lists
from socialcredit.timeutil import now, parse_instant
from tests.api.conftest import FATHER, scs
from tests.rights.conftest import count, ingest

SON = "cn-rid:371082201506010311"
CHEN = "cn-rid:371002199011110247"


def _notices(settings: Settings, subject: str | None = None) -> list[dict[str, Any]]:
    engine = create_engine(settings)
    try:
        with engine.connect() as conn:
            found = find_subject(conn, subject) if subject else None
            return list(list_notices(conn, found, 10_000)["notices"])
    finally:
        engine.dispose()


def test_the_first_evaluation_notifies_every_restriction_and_black_list_entry(
    village: Settings,
) -> None:
    engine = create_engine(village)
    with engine.connect() as conn:
        first = {p: latest_evaluation(conn, p).id for p in ("national", "sesame")}
        wanted = {
            (p, "measure_applied", d.measure, d.subject_id)
            for p, e in first.items()
            for d in conn.execute(
                sa.select(decisions).where(
                    decisions.c.evaluation_id == e, decisions.c.kind == "restriction"
                )
            )
        } | {
            (p, "list_entered", m.list_name, m.subject_id)
            for p, e in first.items()
            for m in conn.execute(
                sa.select(outcome_lists).where(outcome_lists.c.evaluation_id == e)
            )
            if black(p, m.list_name)
        }
        granted = conn.execute(
            sa.select(sa.func.count()).where(
                decisions.c.evaluation_id.in_(first.values()), decisions.c.kind == "privilege"
            )
        ).scalar_one()
        stored = {
            (n.policy_name, n.kind, n.topic, n.subject_id) for n in conn.execute(sa.select(notices))
        }
    assert granted > 0  # privileges were granted, and are the baseline: no notice
    assert wanted and stored == wanted  # no tier notice: a first tier is not a change
    assert count(engine, notice_outbox) == len(wanted)
    engine.dispose()
    father = {(n["kind"], n["topic"]): n for n in _notices(village, FATHER)}
    ban = father[("measure_applied", "flight_ban")]
    assert ban["adverse"] and ban["measure_kind"] == "restriction"
    assert ban["subject"] == FATHER and not ban["collateral"]
    assert ban["since"].startswith("2026-02-01")
    assert ban["reasons"] and ban["reason"]
    created = parse_instant(ban["created_at"])
    respond_by = parse_instant(ban["contest"]["respond_by"])
    assert respond_by - created == timedelta(days=RESPOND_DAYS)
    assert "object" in ban["contest"]["object"].lower() and "`" not in ban["contest"]["object"]
    assert "appeal" in ban["contest"]["appeal"].lower() and ban["contest"]["appeal_via"]
    assert ban["delivery"] == "pending"
    listed = father[("list_entered", "dishonest_judgment_debtors")]
    assert listed["adverse"] and listed["until"].startswith("2028-02-01")
    # the son's collateral measure names its cause
    son = [n for n in _notices(village, SON) if n["kind"] == "measure_applied"]
    assert son and all(n["collateral"] and n["cause_subject"] == FATHER for n in son)


def test_an_evaluation_that_changes_nothing_makes_no_notice(village: Settings) -> None:
    before = len(_notices(village))
    scs(village, "evaluate", "--as-of", "2026-06-01")
    assert len(_notices(village)) == before


def test_a_replay_and_a_look_back_make_no_notice(village: Settings) -> None:
    before = len(_notices(village))
    scs(village, "evaluate", "--as-of", "2026-06-01", "--known-at", "2026-06-01")
    scs(village, "evaluate", "--as-of", "2026-03-01")  # earlier than the one serving
    assert len(_notices(village)) == before


def test_fulfilling_the_judgment_lifts_the_measures_with_a_notice_each(
    village: Settings, tmp_path: Path
) -> None:
    first = {n["id"] for n in _notices(village)}
    ingest(village, tmp_path, "court", [f"c-9,{FATHER},court.judgment.fulfilled,2026-05-01,"], "c")
    scs(village, "evaluate", "--as-of", "2026-06-01")
    new = [n for n in _notices(village) if n["id"] not in first]
    mine = {(n["kind"], n["topic"]) for n in new if n["subject"] == FATHER}
    assert ("list_exited", "dishonest_judgment_debtors") in mine
    assert ("measure_lifted", "flight_ban") in mine
    lifted = next(n for n in new if n["topic"] == "flight_ban" and n["subject"] == FATHER)
    assert not lifted["adverse"] and "contest" not in lifted
    assert lifted["lifted_at"].startswith("2026-06-01")
    # the collateral measures on the son are lifted too, each with its notice
    assert any(n["subject"] == SON and n["kind"] == "measure_lifted" for n in new)
    assert all(n["previous_evaluation"] is not None for n in new)
    assert all(n["created_at"] for n in new)


def test_a_lower_tier_is_an_adverse_notice_with_the_factors(
    village: Settings, tmp_path: Path
) -> None:
    rows = [f"b-late-{i},{CHEN},finance.payment.late,2026-05-{i + 1:02d},90" for i in range(12)]
    ingest(village, tmp_path, "bank", rows, "late")
    scs(village, "evaluate", "--as-of", "2026-06-01")
    tiers = [n for n in _notices(village, CHEN) if n["kind"] == "tier_changed"]
    assert len(tiers) == 1, tiers
    notice = tiers[0]
    assert notice["adverse"] and notice["policy"] == "sesame"
    assert notice["score"]["to"] < notice["score"]["from"]
    assert notice["tier"]["from"] != notice["tier"]["to"] == notice["topic"]
    assert notice["factors"], notice
    top = notice["factors"][0]
    assert top["effect"] < 0 and top["records"] >= 12 and top["reason"]
    assert len(notice["factors"]) <= 4


def test_scs_notices_list_in_json_and_csv(village: Settings) -> None:
    page = json.loads(scs(village, "notices", "list", "--subject", FATHER, "--format", "json"))
    assert page["total"] == len(page["notices"]) > 0
    assert {n["subject"] for n in page["notices"]} == {FATHER}
    lines = scs(village, "notices", "list", "--format", "csv").splitlines()
    assert lines[0] == "id,created_at,subject,policy,kind,topic,adverse,delivery"
    assert len(lines) == 1 + len(_notices(village))


def _run(settings: Settings, *args: str) -> Any:
    from typer.testing import CliRunner

    from socialcredit.cli import app

    env = {"SCS_HOME": str(settings.home), "SCS_DATABASE_URL": settings.database_url}
    return CliRunner().invoke(app, list(args), env=env)


def test_bad_input_to_the_commands_is_named_and_changes_nothing(sqlite_settings: Settings) -> None:
    result = _run(sqlite_settings, "notices", "list", "--format", "xml")
    assert result.exit_code == 2 and "format" in result.output and "xml" in result.output
    result = _run(sqlite_settings, "notices", "list", "--subject", "ext:nobody")
    assert result.exit_code == 3 and "ext:nobody" in result.output
    result = _run(sqlite_settings, "rights", "sweep", "--format", "yaml")
    assert result.exit_code == 2 and "format" in result.output
    empty = json.loads(scs(sqlite_settings, "rights", "sweep", "--format", "json"))
    assert set(empty["counts"].values()) == {0} and empty["evaluations"] == []
    assert json.loads(scs(sqlite_settings, "notices", "list", "--format", "json")) == {
        "total": 0,
        "notices": [],
    }


def test_a_case_notice_goes_through_the_same_table_and_outbox(
    village: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialcredit.errors import InvalidInput
    from socialcredit.rights.notices import case_notice

    monkeypatch.setenv("SCS_NOW", "2026-12-01T08:00:00Z")
    engine = create_engine(village)
    with engine.begin() as conn:
        father = find_subject(conn, FATHER)
        notice_id = case_notice(
            conn,
            father.id,
            "objection_answered",
            "court/c-2",
            "Your objection was upheld: the record no longer counts",
            {"objection": 7, "outcome": "suppressed"},
        )
    stored = count(engine, notices)
    for kind, headline, field in (
        ("measure_applied", "x", "kind"),  # an evaluation's kind
        ("Bad Kind", "x", "kind"),
        ("ok_kind", " ", "headline"),
    ):
        with engine.begin() as conn, pytest.raises(InvalidInput) as refused:
            case_notice(conn, father.id, kind, "t", headline, {})
        assert refused.value.field == field
    assert count(engine, notices) == stored
    mine = {n["id"]: n for n in _notices(village, FATHER)}
    notice = mine[notice_id]
    assert notice["kind"] == "objection_answered" and notice["policy"] is None
    assert notice["headline"].startswith("Your objection was upheld")
    assert notice["outcome"] == "suppressed" and notice["delivery"] == "pending"
    assert notice["created_at"] == "2026-12-01T08:00:00Z"
    assert len([n for n in mine.values() if n["kind"] == "objection_answered"]) == 1
    assert count(engine, notice_outbox) == count(engine, notices)
    engine.dispose()


def black(policy: str, name: str) -> bool:
    """Whether `name` is a black list of the bundled pack `policy`."""
    from socialcredit.policy.load import bundled_packs

    return any(
        d.name == name and d.kind == "black"
        for p in bundled_packs().values()
        if p.policy.name == policy
        for d in p.policy.lists
    )


def test_notices_made_beside_another_run_are_compared_anew(village: Settings) -> None:
    """Two current runs at once (the service's sweep and an operator's evaluate): the one that
    stores second compares again with what the first stored, under the store lock."""
    engine = create_engine(village)
    first = run_evaluations(engine, village, ["national"]).results[0]
    run_evaluations(engine, village, ["national"])  # stored meanwhile
    compared: list[Pending] = []

    def again(conn: sa.Connection, stale: Pending) -> Pending | None:
        compared.append(stale)
        return None

    def store(previous: int | None) -> int:
        pending = Pending(previous, [], now())
        return store_outcome(
            engine, first.policy, first.outcome, now(), True, now(), "duckdb", pending, again
        )

    store(first.evaluation_id)
    assert len(compared) == 1  # stale: compared anew
    with engine.connect() as conn:
        serving = latest_evaluation(conn, "national").id
    store(serving)
    assert len(compared) == 1  # current: kept as made
    engine.dispose()
