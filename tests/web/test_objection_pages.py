"""The portal's objection pages: the Object action on each record in /me, the form (labels,
errors in words), the timeline with its deadline, and the operator's work queue and answer."""

from __future__ import annotations

import sqlalchemy as sa

from socialcredit.store.schema import identifiers, records
from tests.web.conftest import Site

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


def _record_of(site: Site, identifier: str) -> str:
    with site.engine.connect() as conn:
        row = conn.execute(
            sa.select(records.c.source_id, records.c.record_id)
            .join(identifiers, identifiers.c.subject_id == records.c.subject_id)
            .where(identifiers.c.identifier == identifier)
            .order_by(records.c.occurred_at.desc(), records.c.id.desc())
            .limit(1)
        ).one()
    return f"{row.source_id}/{row.record_id}"


def test_a_subject_objects_follows_it_and_an_operator_answers(writable: Site) -> None:
    subject = writable.client("subject")
    record = _record_of(writable, writable.own)
    me = subject.get("/me")
    assert "/me/objections/new?record=" in me.text and "My objections" in me.text
    form = subject.get(f"/me/objections/new?record={record}")
    assert form.status_code == 200
    for field in ("record", "grounds", "evidence"):
        assert f'<label for="{field}"' in form.text and f'id="{field}"' in form.text
    filed = subject.post(
        "/me/objections",
        data={"record": record, "grounds": "This was paid on time."},
        files={"evidence": ("receipt.txt", b"paid", "text/plain")},
        headers=SAME_SITE,
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    case_url = filed.headers["location"]
    case = subject.get(case_url)
    assert case.status_code == 200
    assert "State: open" in case.text and "must answer by" in case.text
    assert "receipt.txt" in case.text and "record disputed" in case.text
    assert "Answer for the source" not in case.text  # the subject does not answer
    again = subject.post(
        "/me/objections",
        data={"record": record, "grounds": "Again."},
        headers=SAME_SITE,
    )
    assert again.status_code == 409 and "already under objection" in again.text
    empty = subject.post(
        "/me/objections", data={"record": record, "grounds": " "}, headers=SAME_SITE
    )
    assert empty.status_code == 422 and "grounds" in empty.text
    other = subject.post(
        "/me/objections",
        data={"record": _record_of(writable, writable.other), "grounds": "Not mine."},
        headers=SAME_SITE,
    )
    assert other.status_code == 403
    objection_id = case_url.rsplit("/", 1)[1]
    assert subject.get(f"/objections/{objection_id}").status_code == 403
    assert subject.get("/queue").status_code == 403

    operator = writable.client("operator")
    queue = operator.get("/queue")
    assert queue.status_code == 200 and f'href="/objections/{objection_id}"' in queue.text
    assert writable.own in queue.text
    page = operator.get(f"/objections/{objection_id}")
    assert "Answer for the source" in page.text and '<label for="note">' in page.text
    answered = operator.post(
        f"/objections/{objection_id}/answer",
        data={"answer": "verified", "note": "checked the ledger"},
        headers=SAME_SITE,
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    assert "State: verified" in operator.get(f"/objections/{objection_id}").text
    assert f"/objections/{objection_id}" not in operator.get("/queue").text
    assert "verified" in subject.get("/me").text


def test_another_site_cannot_post_an_objection(writable: Site) -> None:
    subject = writable.client("subject")
    answer = subject.post(
        "/me/objections",
        data={"record": _record_of(writable, writable.own), "grounds": "x"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403
    assert "My objections" in subject.get("/me").text
    assert "/me/objections/" not in subject.get("/me").text.split("My objections")[1]
