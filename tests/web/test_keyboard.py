"""Keyboard only, in a real Chromium: Tab, Shift+Tab, Enter and typing; no click, no `goto`
after the first page. From the login page (skip link, the form) to a subject's report (a link in
the dashboard's table) and back (the breadcrumb, the navigation), and the subject's own way from
/me to its report and back; every element reached shows where the focus is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from socialcredit.api import create_app
from tests.web.conftest import DESKTOP, Site, serving

pytestmark = pytest.mark.slow

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
    href: el.getAttribute("href") || "", text: (el.innerText || "").trim(),
    ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    shown: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight,
  };
}"""


@pytest.fixture(scope="session")
def keyboard_server(site: Site) -> Iterator[str]:
    with serving(create_app(site.settings, site.engine)) as base:
        yield base


class Keyboard:
    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport=DESKTOP)
        self.page = self.context.new_page()
        self.base = base
        self.walked: list[str] = []

    def focused(self) -> dict[str, Any]:
        found = self.page.evaluate(FOCUSED)
        assert found is not None, "the focus is on nothing"
        return dict(found)

    def tab_to(self, wanted: Any, limit: int = 120, back: bool = False) -> dict[str, Any]:
        """Press Tab (or Shift+Tab) until the focused element is `wanted` (a predicate); it
        must be visibly focused. Nothing is pressed when it has the focus already."""
        now = self.page.evaluate(FOCUSED)
        if now is not None and wanted(now):
            return dict(now)
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            now = self.focused()
            self.walked.append(f"{now['tag']} {now['href'] or now['id'] or now['text'][:30]}")
            if wanted(now):
                assert now["shown"], f"focused but off screen: {now}"
                assert now["ring"], f"focused with no visible focus ring: {now}"
                return now
        raise AssertionError(f"not reached in {limit} presses: {self.walked[-limit:]}")

    def enter(self, expect_navigation: bool = True) -> None:
        if expect_navigation:
            with self.page.expect_navigation():
                self.page.keyboard.press("Enter")
        else:
            self.page.keyboard.press("Enter")

    def path(self) -> str:
        return str(self.page.url).removeprefix(self.base)

    def close(self) -> None:
        self.context.close()


def test_the_skip_link_is_first_shown_on_focus_and_moves_the_focus_to_the_content(
    browser: Any, keyboard_server: str
) -> None:
    keys = Keyboard(browser, keyboard_server)
    try:
        keys.page.goto(keyboard_server + "/")
        hidden = keys.page.locator(".skip-link").bounding_box()
        assert hidden is not None and hidden["y"] + hidden["height"] <= 0  # out of sight
        keys.page.keyboard.press("Tab")
        first = keys.focused()
        assert "skip-link" in first["cls"] and first["href"] == "#main"
        assert first["shown"] and first["ring"]
        keys.enter(expect_navigation=False)
        assert keys.page.evaluate("document.activeElement.id") == "main"
        keys.page.keyboard.press("Tab")  # the next stop is inside the main content
        assert keys.page.evaluate("document.querySelector('main').contains(document.activeElement)")
    finally:
        keys.close()


def test_staff_go_from_login_to_a_report_and_back_by_keyboard(
    browser: Any, keyboard_server: str, site: Site
) -> None:
    keys = Keyboard(browser, keyboard_server)
    try:
        keys.page.goto(keyboard_server + "/")
        keys.tab_to(lambda f: "skip-link" in f["cls"], limit=1)  # the first stop
        keys.enter(expect_navigation=False)
        keys.tab_to(lambda f: f["href"] == "/login", back=True)  # the header's "Log in"
        keys.enter()
        keys.tab_to(lambda f: f["id"] == "key")  # (the login page focuses it already)
        keys.page.keyboard.type(site.keys["operator"] or "")
        keys.enter()  # submits the form
        assert keys.path().startswith("/dashboard")
        report = keys.tab_to(lambda f: f["tag"] == "a" and f["href"].startswith("/subjects/"))
        keys.enter()
        assert keys.path().startswith(report["href"].split("?")[0])
        assert keys.page.locator("main h1").inner_text().strip()
        keys.tab_to(lambda f: f["tag"] == "a" and "?policy=" in f["href"] and "tab" in f["cls"])
        keys.enter()  # another policy's tab
        assert "?policy=" in keys.path() and keys.path().startswith("/subjects/")
        # back: the breadcrumb to the dashboard, then the navigation to the public lists
        keys.tab_to(lambda f: f["href"].startswith("/dashboard?policy="))
        keys.enter()
        assert keys.path().startswith("/dashboard")
        keys.tab_to(lambda f: f["href"] == "/lists")
        keys.enter()
        assert keys.path() == "/lists"
        listed = keys.tab_to(lambda f: f["href"].startswith("/lists/"))
        keys.enter()
        assert keys.path() == listed["href"]
        keys.tab_to(lambda f: f["href"] == "/lists", back=True)  # the navigation, backwards
        keys.enter()
        assert keys.path() == "/lists"
    finally:
        keys.close()


def test_a_subject_goes_from_login_to_its_report_and_back_by_keyboard(
    browser: Any, keyboard_server: str, site: Site
) -> None:
    keys = Keyboard(browser, keyboard_server)
    try:
        keys.page.goto(keyboard_server + "/login")
        keys.tab_to(lambda f: f["id"] == "key")
        keys.page.keyboard.type(site.keys["subject"] or "")
        keys.tab_to(lambda f: f["tag"] == "button" and "button-primary" in f["cls"])
        keys.enter()  # the form's button
        assert keys.path() == "/me"
        keys.tab_to(lambda f: f["href"].startswith("/me/report?policy="))
        keys.enter()
        assert keys.path().startswith("/me/report?policy=")
        assert site.own in keys.page.locator("main").inner_text()
        keys.tab_to(lambda f: f["href"] == "/me")  # the breadcrumb (or the navigation)
        keys.enter()
        assert keys.path() == "/me"
        keys.tab_to(lambda f: f["href"] == "/lists")
        keys.enter()
        assert keys.path() == "/lists"
    finally:
        keys.close()
