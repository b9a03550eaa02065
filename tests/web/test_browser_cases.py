"""The portal's appeal flow in a real headless Chromium: a subject clicks "Appeal" beside a
measure, writes its grounds, lands on the case's timeline; the pages fit a phone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Site
from tests.web.test_browser import PHONE, server, visit  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


def test_a_subject_appeals_a_measure_in_the_browser(visit: Any, site: Site) -> None:  # noqa: F811
    v = visit()
    v.login(site.keys["subject"])
    v.charts_drawn(1)
    v.page.locator("a[href*='/me/appeal?'][href*='measure=high_speed_rail_ban']").first.click()
    v.page.wait_for_url("**/me/appeal?**")
    assert v.page.locator("label[for=grounds]").count() == 1
    v.page.fill("#grounds", "The court revoked my listing last month.")
    with v.page.expect_navigation():
        v.page.click("form[action='/me/appeal'] button[type=submit]")
    assert "/me/appeals/" in v.page.url
    main = v.page.locator("main").inner_text()
    assert "The court revoked my listing last month." in main
    assert "a reviewer's decision is due" in main
    case = v.page.url.removeprefix(v.base)
    phone = visit(PHONE)
    phone.login(site.keys["subject"])
    for path in (case, "/me", "/me/repair?policy=national&list=dishonest_judgment_debtors"):
        phone.open(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
