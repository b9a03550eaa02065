"""The pages in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Skipped with the reason when the browser is absent, unless SCS_REQUIRE_BROWSER=1 (CI), which
turns the skip into a failure. With SCS_SCREENSHOTS=<folder> the screenshot test writes the
README's screenshots there (`SCS_SCREENSHOTS=docs/screenshots pytest tests/web -k screenshots`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socialcredit.api import create_app
from tests.web.conftest import CHARTS, DESKTOP, PHONE, Site, serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def server(site: Site) -> Iterator[str]:
    """The real service (uvicorn) over the demo store, on a free local port, with the default
    rate limits: a person's browsing never meets them."""
    with serving(create_app(site.settings, site.engine)) as base:
        yield base


class Visit:
    """One browser context (cookies of its own), with every page error kept."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] = DESKTOP) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )

    def open(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, key: str | None) -> None:
        assert key is not None
        self.open("/login")
        self.page.fill("#key", key)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")

    def charts_drawn(self, at_least: int) -> int:
        self.page.wait_for_selector(CHARTS)
        self.page.wait_for_function(f"document.querySelectorAll('{CHARTS}').length >= {at_least}")
        return int(self.page.locator(".js-plotly-plot").count())

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Any, server: str) -> Iterator[Any]:
    opened: list[Visit] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Visit:
        opened.append(Visit(browser, server, viewport))
        return opened[-1]

    yield make
    for v in opened:
        assert v.errors == [], v.errors  # no script error, no refused resource, no CSP report
        v.close()


def test_operator_sees_the_dashboard_charts_and_opens_a_report(visit: Any, site: Site) -> None:
    v = visit()
    v.login(site.keys["operator"])
    assert v.page.url.endswith("/dashboard")
    drawn = v.charts_drawn(5)  # histogram, tiers, trend, regions, measures
    assert drawn >= 5
    assert v.page.locator("#figure-histogram").count() == 1
    v.page.locator("table a[href^='/subjects/']").first.click()
    v.page.wait_for_url("**/subjects/**")
    v.charts_drawn(2)  # the gauge and the categories
    assert v.page.locator(".factor").count() > 0
    assert v.page.locator("[data-score]").inner_text().isdigit()


def test_a_subject_sees_only_its_own_data(visit: Any, site: Site) -> None:
    v = visit()
    v.login(site.keys["subject"])
    assert v.page.url.endswith("/me")
    v.charts_drawn(1)
    text = v.page.locator("main").inner_text()
    assert site.own in text and site.other not in text
    v.page.click("text=Why this score?")
    v.page.wait_for_url("**/me/report?policy=*")
    v.charts_drawn(2)
    assert site.own in v.page.locator("main").inner_text()


def test_a_subject_opening_another_s_report_is_refused(visit: Any, site: Site) -> None:
    v = visit()
    v.login(site.keys["subject"])
    answer = v.open(f"/subjects/{site.other}")
    assert answer.status == 403
    assert v.page.locator("h1").inner_text() == "Not allowed"
    assert site.other not in v.page.locator("main h1").inner_text()
    v.errors.clear()  # Chromium reports the 403 document itself as a console error


def test_anonymous_dashboard_goes_to_login_and_back(visit: Any, site: Site) -> None:
    v = visit()
    answer = v.open("/dashboard?policy=national")
    assert answer.status == 401
    v.errors.clear()  # the 401 document, as above
    v.page.fill("#key", site.keys["operator"] or "")
    with v.page.expect_navigation():
        v.page.click("button[type=submit]")
    assert v.page.url.endswith("/dashboard?policy=national")
    v.charts_drawn(3)


def test_pages_fit_a_phone(visit: Any, site: Site) -> None:
    v = visit(PHONE)
    v.login(site.keys["subject"])
    v.charts_drawn(1)
    for path in ("/me", "/me/report", "/lists/dishonest_judgment_debtors"):
        v.open(path)
        width = v.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)


def test_screenshots(visit: Any, site: Site, tmp_path: Path) -> None:
    """The README's screenshots (written to SCS_SCREENSHOTS when set)."""
    folder = Path(os.environ.get("SCS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    clip = {"x": 0, "y": 0, "width": DESKTOP["width"], "height": 1700}
    staff = visit()
    staff.login(site.keys["operator"])
    staff.charts_drawn(5)
    staff.page.screenshot(path=folder / "dashboard.png", full_page=True, clip=clip)
    staff.open(f"/subjects/{site.own}?policy=sesame")
    staff.charts_drawn(2)
    staff.page.screenshot(path=folder / "report.png", full_page=True, clip=clip)
    staff.open("/lists/dishonest_judgment_debtors")
    staff.page.screenshot(path=folder / "public-list.png", full_page=True, clip=clip)
    citizen = visit()
    citizen.login(site.keys["subject"])
    citizen.charts_drawn(1)
    citizen.page.screenshot(path=folder / "me.png", full_page=True, clip=clip)
    phone = visit(PHONE)
    phone.login(site.keys["subject"])
    phone.charts_drawn(1)
    phone.page.screenshot(path=folder / "me-phone.png")
    for name in ("dashboard", "report", "public-list", "me", "me-phone"):
        assert (folder / f"{name}.png").stat().st_size > 10_000, name


def test_the_api_docs_render_offline_under_their_content_security_policy(visit: Any) -> None:
    """/docs is Swagger UI from this server's own files: it renders every operation with no
    script, style or request going anywhere else (a CSP violation would be a console error)."""
    v = visit()
    requested: list[str] = []
    v.page.on("request", lambda request: requested.append(request.url))
    v.open("/docs")
    v.page.wait_for_selector(".swagger-ui .opblock")
    assert v.page.locator(".swagger-ui .opblock").count() >= 20
    assert requested and all(url.startswith(v.base) for url in requested), requested
