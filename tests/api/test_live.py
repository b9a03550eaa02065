"""`GET /v1/live`: the live view for programs. A refresh and a decision's notice are written
through the store's own functions (as `outcomes.refresh.catch_up` and `rights.notices` write
them), and the answer shows them; staff see the decisions, auditors the aggregates only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.rights.changes import NoticeRow
from socialcredit.rights.notices import Pending, save_notices
from socialcredit.settings import Settings
from socialcredit.store.db import writing
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.positions import log_position
from socialcredit.store.refreshes import add_refresh
from socialcredit.store.registry import find_subject
from socialcredit.timeutil import parse_instant
from tests.api.conftest import World, copy_demo, open_world

FROZEN = "2026-11-01T12:00:00Z"
NO_BROKER = "nats://127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture
def world(demo_home: tuple[Path, str, str], tmp_path: Path) -> Iterator[World]:
    home, own, other = copy_demo(demo_home, tmp_path)
    found = open_world("live", Settings(home=home, nats_url=NO_BROKER), own, other)
    yield found
    found.client.close()
    found.engine.dispose()


def add_refresh_of(world_engine: sa.Engine, policy: str, records: int, subjects: int) -> int:
    """A refresh of the policy's current evaluation, at the clock's instant, as catch_up stores
    one."""
    from socialcredit.timeutil import now

    with writing(world_engine) as conn:
        evaluation = latest_evaluation(conn, policy)
        return add_refresh(
            conn, evaluation.id, now(), records, subjects, 1, 0.012, log_position(conn)
        )


def add_decision_notice(
    engine: sa.Engine, identifier: str, policy: str, measure: str, applied: bool = True
) -> int:
    """A notice that `measure` was applied to (or lifted for) the subject, as a refresh that
    changed the decision stores it (`rights.notices.save_notices`)."""
    from socialcredit.timeutil import now

    with writing(engine) as conn:
        subject = find_subject(conn, identifier)
        evaluation = latest_evaluation(conn, policy)
        kind = "measure_applied" if applied else "measure_lifted"
        body = {
            "measure": measure,
            "measure_kind": "restriction",
            "authority": "civil-aviation",
            "reasons": [],
            "policy": policy,
            "subject": identifier,
            "collateral": False,
        }
        row = NoticeRow(subject.id, kind, measure, applied, None, body)
        return save_notices(conn, Pending(evaluation.id, [row], now()), evaluation.id)[0]


def test_staff_see_the_refresh_rate_and_the_new_decision(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCS_NOW", FROZEN)
    before = world.client.get("/v1/live", headers=world.headers("operator"))
    assert before.status_code == 200, before.text
    assert before.json()["stream"] is None  # no broker: said so, not an error
    assert before.json()["records_per_second"] == 0
    earlier = {p["policy"]: p for p in before.json()["policies"]}["sesame"]
    scored = earlier["scored"]

    add_refresh_of(world.engine, "sesame", records=40, subjects=12)
    add_refresh_of(world.engine, "national", records=40, subjects=3)  # the same stretch
    notice = add_decision_notice(world.engine, world.other, "national", "flight_ban")

    answer = world.client.get(
        "/v1/live", headers=world.headers("operator", **{"Accept-Language": "zh-CN"})
    )
    assert answer.status_code == 200, answer.text
    live = answer.json()
    assert live["at"] == "2026-11-01T12:00:00Z"
    assert live["records_per_second"] == 4.0  # 40 records (counted once) over 10 s
    assert live["latest_refresh"]["records"] == 40
    assert parse_instant(live["latest_refresh"]["at"]) == datetime.fromisoformat(FROZEN)
    sesame = {p["policy"]: p for p in live["policies"]}["sesame"]
    # the service's refresher may have refreshed sesame for an earlier test's records: count on
    added = [sesame[k] - earlier[k] for k in ("refreshes", "records", "subjects")]
    assert added == [1, 40, 12]
    rewritten = sesame["subjects"]
    assert sesame["percentile_lag"] == pytest.approx(rewritten / (scored - rewritten - 1))
    first = live["decisions"][0]
    assert first["notice"] == notice
    assert (first["change"], first["measure"], first["policy"]) == (
        "applied",
        "flight_ban",
        "national",
    )
    assert first["subject"] == world.other
    assert first["label"] == "限制乘坐飞机"  # the policy's own words, in the reader's language
    assert first["at"] == "2026-11-01T12:00:00Z"


def test_auditors_get_the_aggregates_without_anyone_s_data(world: World) -> None:
    add_decision_notice(world.engine, world.other, "national", "flight_ban", applied=False)
    answer = world.client.get("/v1/live", headers=world.headers("auditor"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["decisions"] is None
    assert world.other not in answer.text
    staff = world.client.get("/v1/live", headers=world.headers("admin"))
    assert staff.json()["decisions"][0]["change"] == "lifted"


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("subject", 403),
        ("relying_party", 403),
        ("source", 403),
        ("reviewer", 403),
        ("anonymous", 401),
    ],
)
def test_others_are_refused(world: World, caller: str, status: int) -> None:
    answer = world.client.get("/v1/live", headers=world.headers(caller))
    assert answer.status_code == status
    assert answer.json()["error"]["code"] in ("forbidden", "unauthenticated")


def test_the_percentile_lag_bound() -> None:
    from socialcredit.outcomes.live import percentile_lag

    assert percentile_lag(0, 1000) == 0.0
    assert percentile_lag(10, 1001) == pytest.approx(10 / 990)  # N before new ones: 991
    assert percentile_lag(5, 5) == 1.0  # too few to bound: at most everything
