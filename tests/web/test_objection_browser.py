"""Objecting in a real headless Chromium: the subject clicks "Object" on a record in /me, fills
the form with a file, follows the objection; an operator finds it in the work queue and answers.
(The whole flow with the deadline, the sweep and the notice is the lead's end-to-end test.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Site, serving
from tests.web.test_browser import Visit

pytestmark = pytest.mark.slow


@pytest.fixture
def server(writable: Site) -> Iterator[str]:
    """The real service over a copy of the city of the test's own (it writes)."""
    with serving(writable.app) as base:
        yield base


def test_a_subject_objects_and_an_operator_answers_in_the_browser(
    browser: Any, server: str, writable: Site, tmp_path: Path
) -> None:
    receipt = tmp_path / "receipt.txt"
    receipt.write_text("paid in full on the due date")
    subject = Visit(browser, server)
    subject.login(writable.keys["subject"])
    subject.open("/me")
    objecting = subject.page.locator("a[href^='/me/objections/new']").first
    objecting.click()
    subject.page.wait_for_url(re.compile(r"/me/objections/new\?record="))
    assert subject.page.locator("#record").input_value()  # filled from the record's row
    subject.page.fill("#grounds", "I paid this on time; the receipt is attached.")
    subject.page.set_input_files("#evidence", str(receipt))
    with subject.page.expect_navigation():
        subject.page.click("form[action='/me/objections'] button[type=submit]")
    assert "/me/objections/" in subject.page.url
    text = subject.page.inner_text("main")
    assert "State: open" in text and "must answer by" in text and "receipt.txt" in text
    case = subject.page.url.rsplit("/", 1)[1]

    operator = Visit(browser, server)
    operator.login(writable.keys["operator"])
    operator.open("/queue")
    operator.page.click(f"a[href='/objections/{case}']")
    operator.page.wait_for_url(f"**/objections/{case}")
    operator.page.check("input[name=answer][value=verified]")
    operator.page.fill("#note", "The ledger shows it paid late.")
    with operator.page.expect_navigation():
        operator.page.click(f"form[action='/objections/{case}/answer'] button[type=submit]")
    assert "State: verified" in operator.page.inner_text("main")
    subject.open(f"/me/objections/{case}")
    assert "State: verified" in subject.page.inner_text("main")
    for v in (subject, operator):
        assert v.errors == [], v.errors
        v.close()
