"""The portal's due-process actions: "Appeal" beside each measure, "Apply for repair" beside
each list entry, a timeline per case; refusals are shown in words and change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from socialcredit.ingest.accept import accept_records
from socialcredit.sharing.keys import create_key
from socialcredit.store.db import writing
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import appeals, outcome_lists, records, repair_applications
from socialcredit.store.sources import add_source, get_source
from socialcredit.timeutil import format_instant, now
from tests.web.conftest import Site

DEBTORS, PROOF = "dishonest_judgment_debtors", "credit.commitment.signed"


def count(site: Site, table: sa.Table) -> int:
    with site.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_subject_appeals_from_its_page_and_follows_the_case(site: Site) -> None:
    client = site.client("subject")
    me = client.get("/me")
    links = re.findall(r'href="(/me/appeal\?[^"]+)"', me.text)
    assert links, "no Appeal action beside the measures"
    assert re.search(r'href="/me/repair\?policy=national&amp;list=[a-z_]+"', me.text)
    form_url = next(u for u in links if "measure=flight_ban" in u).replace("&amp;", "&")
    form = client.get(form_url)
    assert form.status_code == 200
    assert '<label for="grounds">' in form.text and 'id="grounds"' in form.text
    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.text))
    before = count(site, appeals)
    blank = client.post("/me/appeal", data={**fields, "grounds": "   "}, follow_redirects=False)
    assert blank.status_code == 422 and 'role="alert"' in blank.text
    assert "grounds: is required" in blank.text
    assert count(site, appeals) == before
    elsewhere = client.post(
        "/me/appeal",
        data={**fields, "grounds": "x"},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 403 and count(site, appeals) == before
    filed = client.post(
        "/me/appeal", data={**fields, "grounds": "I was never there"}, follow_redirects=False
    )
    assert filed.status_code == 303, filed.text
    case_url = filed.headers["location"]
    case = client.get(case_url)
    assert case.status_code == 200
    assert "I was never there" in case.text and "decision is due" in case.text
    assert re.findall(r"<h([1-6])", case.text) == ["1", "2", "2"]
    again = client.post("/me/appeal", data={**fields, "grounds": "again"}, follow_redirects=False)
    assert again.status_code == 409 and "still open" in again.text
    listed = client.get("/me")
    assert case_url in listed.text and "My appeals and applications" in listed.text


def test_a_case_page_is_the_subject_s_own(writable: Site) -> None:
    """Another subject opening my case is refused exactly as a case that does not exist."""
    mine = writable.client("subject")
    body = {"policy": "national", "measure": "flight_ban", "cause": "", "grounds": "wrong"}
    filed = mine.post("/me/appeal", data=body, follow_redirects=False)
    if filed.status_code == 303:
        case = filed.headers["location"]
    else:  # the demo's tour (or an earlier test on the shared city) appealed it already
        assert filed.status_code == 409 and "still open" in filed.text, filed.text
        case = re.findall(r'href="(/me/appeals/\d+)"', mine.get("/me").text)[0]
    assert mine.get(case).status_code == 200
    with writable.engine.begin() as conn:
        key, _ = create_key(conn, "subject", subject=writable.other)
    stranger = TestClient(writable.app, raise_server_exceptions=False)
    assert stranger.post("/login", data={"key": key}, follow_redirects=False).status_code == 303
    theirs, missing = stranger.get(case), stranger.get("/me/appeals/999999")
    assert theirs.status_code == missing.status_code == 403
    assert _alert(theirs.text) == _alert(missing.text)
    assert writable.client("operator").get(case).status_code == 403  # staff read /review


def _alert(html: str) -> str:
    found = re.search(r"<main.*?</main>", html, re.S)
    assert found, html
    return found.group(0)


def test_a_reviewer_approves_a_repair_and_the_exit_record_is_written(
    writable: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listed subject applies from its page once the terms are met (a year on the list,
    a signed credit commitment after the entry); a reviewer approves on /review; the list's
    exit record is written by the built-in source `rights`."""
    with writable.engine.connect() as conn:
        own = find_subject(conn, writable.own)
        since = conn.execute(
            sa.select(outcome_lists.c.since).where(
                outcome_lists.c.evaluation_id == latest_evaluation(conn, "national").id,
                outcome_lists.c.subject_id == own.id,
                outcome_lists.c.list_name == DEBTORS,
            )
        ).scalar_one()
    monkeypatch.setenv("SCS_NOW", format_instant(since + timedelta(days=400)) or "")
    with writing(writable.engine) as conn:
        add_source(conn, "notary", "notary")
        row = {"record_id": "commit-1", "subject": writable.own, "type": PROOF}
        row["occurred_at"] = format_instant(since + timedelta(days=30)) or ""
        report = accept_records(conn, get_source(conn, "notary"), [(1, row)], now())
    assert report.accepted == 1, report.rejected
    subject = writable.client("subject")
    body = {"policy": "national", "list": DEBTORS}
    applied = subject.post("/me/repair", data=body, follow_redirects=False)
    assert applied.status_code == 303, applied.text
    mine = applied.headers["location"]
    assert subject.get(mine).status_code == 200
    application = int(mine.rsplit("/", 1)[1])
    reviewer = writable.client("reviewer")
    assert f"/review/repair/{application}" in reviewer.get("/review").text
    page = reviewer.get(f"/review/repair/{application}")
    assert page.status_code == 200 and "<legend>Decision</legend>" in page.text
    decide = {"outcome": "approve", "note": "the judgment is paid and the commitment signed"}
    done = reviewer.post(f"/review/repair/{application}", data=decide, follow_redirects=False)
    assert done.status_code == 303, done.text
    with writable.engine.connect() as conn:
        exits = (
            conn.execute(
                sa.select(records.c.type).where(
                    records.c.source_id == "rights", records.c.subject_id == own.id
                )
            )
            .scalars()
            .all()
        )
    assert exits == ["credit.repair.approved"]
    assert "approved" in subject.get(mine).text
    again = reviewer.post(f"/review/repair/{application}", data=decide)
    assert again.status_code == 409 and "already decided" in again.text


def test_repair_refusals_are_shown_in_words(site: Site) -> None:
    client = site.client("subject")
    unknown = client.get("/me/repair?policy=national&list=nope")
    assert unknown.status_code == 404 and "no list &#39;nope&#39;" in unknown.text
    before = count(site, repair_applications)
    form = client.get("/me/repair?policy=national&list=dishonest_judgment_debtors")
    assert form.status_code == 200 and "The terms" in form.text
    tried = client.post(
        "/me/repair",
        data={"policy": "national", "list": "dishonest_judgment_debtors"},
        follow_redirects=False,
    )
    # The demo's subject is not eligible (no credit commitment): the page says which term.
    assert tried.status_code == 409 and 'role="alert"' in tried.text
    assert count(site, repair_applications) == before


def test_a_reviewer_decides_from_the_review_pages(site: Site) -> None:
    subject = site.client("subject")
    with site.engine.connect() as conn:
        case = conn.execute(
            sa.select(sa.func.max(appeals.c.id)).where(appeals.c.status == "open")
        ).scalar()
    if case is None:  # this test ran first: file the flight ban's appeal through the form
        body = {"policy": "national", "measure": "flight_ban", "cause": "", "grounds": "wrong"}
        filed = subject.post("/me/appeal", data=body, follow_redirects=False)
        assert filed.status_code == 303, filed.text
        case = int(filed.headers["location"].rsplit("/", 1)[1])
    reviewer = site.client("reviewer")
    queue = reviewer.get("/review")
    assert queue.status_code == 200 and f"/review/appeals/{case}" in queue.text
    assert subject.get("/review").status_code == 403
    page = reviewer.get(f"/review/appeals/{case}")
    assert page.status_code == 200 and "<legend>Decision</legend>" in page.text
    blank = reviewer.post(f"/review/appeals/{case}", data={"outcome": "uphold", "note": " "})
    assert blank.status_code == 422 and "note: is required" in blank.text
    done = reviewer.post(
        f"/review/appeals/{case}",
        data={"outcome": "uphold", "note": "the listing stands"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = subject.get(f"/me/appeals/{case}")
    assert "the listing stands" in shown.text and "upheld" in shown.text
    again = reviewer.post(f"/review/appeals/{case}", data={"outcome": "override", "note": "x"})
    assert again.status_code == 409 and "already decided" in again.text
