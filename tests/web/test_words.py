"""The portal and the public lists speak sentences: no condition code, record-type code or
source id on its own in what a person reads (tags and their attributes aside)."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import Site

pytestmark = pytest.mark.slow
CODES = re.compile(r"on_list:|tier_in:|score_below:|score_at_least:|has_record:|not:")


def readable(html: str) -> str:
    """The text a person reads: no scripts, no tags (and so no attributes)."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(("language", "listed"), [("en", "On the list “"), ("zh-CN", "起列入“")])
def test_my_page_says_why_in_sentences(site: Site, language: str, listed: str) -> None:
    client = site.client("subject")
    page = client.get("/me", params={"lang": language})
    assert page.status_code == 200
    # the notices' template (_notices.html) is translated apart; it has `reason_texts` too
    text = readable(re.sub(r'<ol class="notices">.*?</ol>', " ", page.text, flags=re.S))
    assert listed in text
    assert not CODES.search(text), CODES.search(text)
    assert not re.search(r"\b[a-z_]+\.[a-z_]+\.[a-z_]+\b", text)  # no record-type code
    records = readable(client.get("/me/records", params={"lang": language}).text)
    assert not re.search(r"\b(court|bank|police|tax)/", records)  # no source/record ids


@pytest.mark.parametrize(("language", "listed"), [("en", "On the list “"), ("zh-CN", "起列入“")])
def test_a_public_list_says_why_each_entry_is_on_it(site: Site, language: str, listed: str) -> None:
    page = site.client().get("/lists/dishonest_judgment_debtors", params={"lang": language})
    assert page.status_code == 200
    text = readable(page.text)
    assert text.count(listed) >= 1
    assert "Weihai" in text or "威海" in text  # regions by name
    assert not CODES.search(text)
    assert not re.search(r"\bcourt\.dishonest\.", text)
