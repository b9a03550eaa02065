"""The whole due-process flow in a real headless Chromium, on a frozen clock that the test moves:

a listed person objects to the court record that put them on the debtor list; the court does not
answer; on day 19 the sweep leaves the objection open, on day 20 it suppresses the record and
re-evaluates; the person's score rises, the flight ban is lifted, and /me shows the notices.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.outcomes.runs import run_evaluations
from socialcredit.rights.sweep import sweep
from socialcredit.sharing.keys import create_key
from socialcredit.store.evaluations import latest_evaluation_id
from socialcredit.store.schema import (
    decisions,
    identifiers,
    objections,
    outcome_lists,
    outcome_scores,
    record_status,
    records,
)
from socialcredit.timeutil import format_instant, now
from tests.web.conftest import Site, serving
from tests.web.test_browser import Visit

pytestmark = pytest.mark.slow

DEBTORS = "dishonest_judgment_debtors"


@pytest.fixture
def server(writable: Site) -> Iterator[str]:
    """The real service over a copy of the web tests' city (this test writes)."""
    with serving(writable.app) as base:
        yield base


def listed_by_one_record(site: Site) -> tuple[int, str, str]:
    """A person on the debtor list and under a flight ban of their own in the current national
    evaluation, listed by exactly one court record that sesame also counts: (subject id, first
    identifier, SOURCE/RECORD_ID of that record)."""
    with site.engine.connect() as conn:
        national = latest_evaluation_id(conn, "national")
        sesame = latest_evaluation_id(conn, "sesame")
        dishonest = (
            sa.select(records.c.subject_id, sa.func.count().label("n"))
            .where(
                records.c.type.like("court.dishonest.%"),
                records.c.id.not_in(sa.select(record_status.c.record_pk)),
            )
            .group_by(records.c.subject_id)
            .subquery()
        )
        banned = sa.select(decisions.c.subject_id).where(
            decisions.c.evaluation_id == national,
            decisions.c.measure == "flight_ban",
            decisions.c.cause_subject_id == decisions.c.subject_id,
        )
        row = conn.execute(
            sa.select(outcome_lists.c.subject_id, identifiers.c.identifier)
            .join(dishonest, dishonest.c.subject_id == outcome_lists.c.subject_id)
            .join(identifiers, identifiers.c.subject_id == outcome_lists.c.subject_id)
            .join(outcome_scores, outcome_scores.c.subject_id == outcome_lists.c.subject_id)
            .where(
                outcome_lists.c.evaluation_id == national,
                outcome_lists.c.list_name == DEBTORS,
                outcome_scores.c.evaluation_id == sesame,
                dishonest.c.n == 1,
                identifiers.c.ordinal == 0,
                outcome_lists.c.subject_id.in_(banned),
            )
            .order_by(outcome_lists.c.subject_id)
            .limit(1)
        ).one()
        record = conn.execute(
            sa.select(records.c.source_id, records.c.record_id).where(
                records.c.subject_id == row.subject_id, records.c.type.like("court.dishonest.%")
            )
        ).one()
    return row.subject_id, row.identifier, f"{record.source_id}/{record.record_id}"


def standing(site: Site, subject_id: int) -> tuple[int, bool, bool]:
    """The current sesame score, whether listed, and whether under its own flight ban."""
    with site.engine.connect() as conn:
        national = latest_evaluation_id(conn, "national")
        sesame = latest_evaluation_id(conn, "sesame")
        score = conn.execute(
            sa.select(outcome_scores.c.score).where(
                outcome_scores.c.evaluation_id == sesame, outcome_scores.c.subject_id == subject_id
            )
        ).scalar_one()
        listed = conn.execute(
            sa.select(sa.func.count()).where(
                outcome_lists.c.evaluation_id == national,
                outcome_lists.c.subject_id == subject_id,
                outcome_lists.c.list_name == DEBTORS,
            )
        ).scalar_one()
        banned = conn.execute(
            sa.select(sa.func.count()).where(
                decisions.c.evaluation_id == national,
                decisions.c.subject_id == subject_id,
                decisions.c.measure == "flight_ban",
            )
        ).scalar_one()
    return int(score), bool(listed), bool(banned)


def test_an_unanswered_objection_lifts_the_ban_and_the_notice_shows_in_me(
    browser: Any, server: str, writable: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = writable
    start = (now() + timedelta(days=1)).replace(microsecond=0)

    def at(day: int) -> datetime:
        moment = start + timedelta(days=day)
        monkeypatch.setenv("SCS_NOW", format_instant(moment) or "")
        return moment

    at(0)
    run_evaluations(site.engine, site.settings)  # everyone's standing today
    subject_id, identifier, record = listed_by_one_record(site)
    score_before, listed, banned = standing(site, subject_id)
    assert listed and banned
    with site.engine.begin() as conn:
        key, _ = create_key(conn, "subject", subject=identifier)

    # Day 0: the person objects in the portal.
    person = Visit(browser, server)
    person.login(key)
    person.open(f"/me/objections/new?record={record}")
    assert person.page.locator("#record").input_value() == record
    person.page.fill("#grounds", "I paid the judgment in full; the court never listed it.")
    with person.page.expect_navigation():
        person.page.click("form[action='/me/objections'] button[type=submit]")
    assert re.search(r"/me/objections/\d+$", person.page.url), person.page.url
    case = int(person.page.url.rsplit("/", 1)[1])
    text = person.page.inner_text("main")
    assert "State: open" in text and "must answer by" in text

    # Day 19, one second before the deadline: the source has not answered; still open.
    monkeypatch.setenv("SCS_NOW", format_instant(at(20) - timedelta(seconds=1)) or "")
    early = sweep(site.engine, site.settings)
    assert early.counts["objections_suppressed"] == 0
    with site.engine.connect() as conn:
        state = conn.execute(
            sa.select(objections.c.resolution).where(objections.c.id == case)
        ).scalar_one()
    assert state is None

    # Day 20: the sweep suppresses the record and re-evaluates every policy in force.
    day20 = at(20)
    done = sweep(site.engine, site.settings)
    assert done.counts["objections_suppressed"] == 1
    assert done.evaluations, "the sweep re-evaluates after a suppression"
    score_after, listed, banned = standing(site, subject_id)
    assert not listed and not banned
    # The score rose because of the objection, not because time passed: the same instant
    # replayed with what was known before the objection still counts the record (under the
    # default `while_disputed: suspend` it stopped counting when it was disputed, on day 0).
    replay = run_evaluations(
        site.engine,
        site.settings,
        ["sesame"],
        as_of=day20,
        known_at=start - timedelta(microseconds=1),
    )
    replayed = replay.results[0].outcome.scores.to_pylist()
    before_suppression = next(r["score"] for r in replayed if r["sid"] == subject_id)
    assert score_after > before_suppression
    assert score_after > score_before

    # Twenty days idle ended the web session: the next page is the login form (a 401), and the
    # person logs in again and reads the notices.
    person.open("/me")
    assert person.page.locator("#key").count() == 1
    assert person.errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
    person.errors.clear()
    person.login(key)
    person.open("/me")
    notices = person.page.inner_text("main")
    assert "no longer counts" in notices  # how the objection ended
    assert "Flight ban" in notices and "no longer applies" in notices.lower()
    person.open(f"/me/objections/{case}")
    assert "State: suppressed" in person.page.inner_text("main")
    assert person.errors == [], person.errors
    person.close()
