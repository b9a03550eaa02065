"""Every page, for every role that can see it, in both languages, checked by axe-core in a real
Chromium: a violation of impact serious or critical fails the test (and so does a wrong heading
order, which axe rates moderate), naming the rule, the element and the page.

axe-core comes from npm (tests/web/axe/package-lock.json); the first run installs it with
`npm ci`. It is injected into each page by the browser itself (an init script), so the pages keep
their Content-Security-Policy. One browser, one server and one context per role and language.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.ingest.accept import accept_records
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine, writing
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import identifiers, outcome_lists, records
from socialcredit.store.sources import add_source, get_source
from socialcredit.timeutil import format_instant, now
from socialcredit.web.render import PageRoute
from tests.api.conftest import UNLIMITED
from tests.web.conftest import DESKTOP, Site, serving

pytestmark = pytest.mark.slow

AXE = Path(__file__).parent / "axe"
AXE_JS = AXE / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = ("en", "zh-CN")
ROLES = ("anonymous", "subject", "operator", "admin", "reviewer", "auditor")
STAFF = ("operator", "admin")
OVERSIGHT = ("operator", "admin", "auditor")
EVERYONE = ROLES
DEBTORS, PROOF = "dishonest_judgment_debtors", "credit.commitment.signed"
# Held whatever their impact: axe rates a skipped heading level "moderate".
ALWAYS = frozenset({"heading-order"})


@dataclass(frozen=True)
class Cases:
    """The demo city's subject with one case of every kind filed, for the case pages."""

    own: str  # the subject key's subject
    record: str  # SOURCE/RECORD_ID of one of its records
    objection: int
    appeal: int
    application: int


# Every GET page route: where to find it, and the roles that see it (answered 200; the others
# are refused, which test_each_role_sees_exactly_these_pages checks).
PAGES: dict[str, tuple[tuple[str, ...], Any]] = {
    "/": (EVERYONE, lambda c: "/"),
    "/lists": (EVERYONE, lambda c: "/lists"),
    "/lists/{name}": (EVERYONE, lambda c: f"/lists/{DEBTORS}"),
    "/login": (EVERYONE, lambda c: "/login"),
    "/dashboard": (OVERSIGHT, lambda c: "/dashboard"),
    "/subjects": (STAFF, lambda c: f"/subjects?identifier={c.own}"),  # on to the report
    "/subjects/{identifier}": (
        ("subject", *STAFF),  # a subject its own only
        lambda c: f"/subjects/{c.own}?policy=sesame",
    ),
    "/me": (("subject",), lambda c: "/me"),
    "/me/report": (("subject",), lambda c: "/me/report?policy=sesame"),
    "/me/records": (("subject",), lambda c: "/me/records"),
    "/me/objections/new": (("subject",), lambda c: f"/me/objections/new?record={c.record}"),
    "/me/objections/{objection_id}": (("subject",), lambda c: f"/me/objections/{c.objection}"),
    "/objections/{objection_id}": (STAFF, lambda c: f"/objections/{c.objection}"),
    "/queue": (STAFF, lambda c: "/queue"),
    "/me/appeal": (
        ("subject",),
        lambda c: "/me/appeal?policy=national&measure=flight_ban",
    ),
    "/me/appeals/{appeal_id}": (("subject",), lambda c: f"/me/appeals/{c.appeal}"),
    "/me/repair": (("subject",), lambda c: f"/me/repair?policy=national&list={DEBTORS}"),
    "/me/repair/{application_id}": (("subject",), lambda c: f"/me/repair/{c.application}"),
    "/review": (("reviewer", *STAFF), lambda c: "/review"),
    "/review/appeals/{appeal_id}": (
        ("reviewer", *STAFF),
        lambda c: f"/review/appeals/{c.appeal}",
    ),
    "/review/repair/{application_id}": (
        ("reviewer", *STAFF),
        lambda c: f"/review/repair/{c.application}",
    ),
}


def mounted_page_routes(app: Any) -> set[str]:
    """The paths of the app's GET page routes (`PageRoute`), however FastAPI nests them."""
    found: set[str] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)  # included routers (FastAPI 0.16x)
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, PageRoute) and "GET" in route.methods:
                found.add(route.path)

    walk(app.api.routes)
    return found


# -- the city: a copy of the web tests' demo with a case of every kind ---------------------------


def _record_of(site: Site, identifier: str) -> str:
    with site.engine.connect() as conn:
        row = conn.execute(
            sa.select(records.c.source_id, records.c.record_id)
            .join(identifiers, identifiers.c.subject_id == records.c.subject_id)
            .where(identifiers.c.identifier == identifier, records.c.source_id != "rights")
            .order_by(records.c.occurred_at.desc(), records.c.id.desc())
            .limit(1)
        ).one()
    return f"{row.source_id}/{row.record_id}"


def _case_id(answer: Any) -> int:
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1])


def file_cases(site: Site) -> Cases:
    """An objection, an appeal and a repair application of the subject, filed as the pages
    would file them (the repair once its terms are met: a year on the list and a signed
    credit commitment)."""
    subject = site.client("subject")
    same_site = {"Sec-Fetch-Site": "same-origin"}
    objection = _case_id(
        subject.post(
            "/me/objections",
            data={"record": _record_of(site, site.own), "grounds": "This was paid on time."},
            headers=same_site,
            follow_redirects=False,
        )
    )
    appeal = _case_id(
        subject.post(
            "/me/appeal",
            data={"policy": "national", "measure": "flight_ban", "cause": "", "grounds": "wrong"},
            follow_redirects=False,
        )
    )
    with site.engine.connect() as conn:
        own = find_subject(conn, site.own)
        since = conn.execute(
            sa.select(outcome_lists.c.since).where(
                outcome_lists.c.evaluation_id == latest_evaluation(conn, "national").id,
                outcome_lists.c.subject_id == own.id,
                outcome_lists.c.list_name == DEBTORS,
            )
        ).scalar_one()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCS_NOW", format_instant(since + timedelta(days=400)) or "")
        with writing(site.engine) as conn:
            add_source(conn, "notary", "notary")
            row = {"record_id": "commit-1", "subject": site.own, "type": PROOF}
            row["occurred_at"] = format_instant(since + timedelta(days=30)) or ""
            report = accept_records(conn, get_source(conn, "notary"), [(1, row)], now())
        assert report.accepted == 1, report.rejected
        application = _case_id(
            subject.post(
                "/me/repair", data={"policy": "national", "list": DEBTORS}, follow_redirects=False
            )
        )
    return Cases(site.own, _record_of(site, site.own), objection, appeal, application)


@pytest.fixture(scope="session")
def city(
    site_home: tuple[Settings, dict[str, str | None], str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Site, Cases]]:
    settings, keys, own, other = site_home
    home = tmp_path_factory.mktemp("axe") / "scs-data"
    home.mkdir()
    # SQLite's backup (the shared store runs in WAL mode; see conftest.writable)
    source, copy = sqlite3.connect(settings.home / "scs.db"), sqlite3.connect(home / "scs.db")
    with source, copy:
        source.backup(copy)
    source.close()
    copy.close()
    copied = Settings(home=home)
    engine = create_engine(copied)
    # Unlimited: these tests log in and read hundreds of pages a minute from one address (the
    # limits have their own tests); the page routes and the checks are the same.
    app = create_app(copied.model_copy(update=UNLIMITED), engine)
    site = Site(copied, engine, app, keys, own, other)
    yield site, file_cases(site)
    engine.dispose()


@pytest.fixture(scope="session")
def city_server(city: tuple[Site, Cases]) -> Iterator[str]:
    site, _ = city
    with serving(site.app) as base:
        yield base


@pytest.fixture(scope="session")
def axe_script() -> str:
    """axe-core's script, installed from the lock file with `npm ci` when it is missing (one
    installer at a time: the xdist workers share the folder)."""
    with (AXE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE_JS.exists():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail(
                    "axe-core is not installed and npm is not on the PATH: install Node.js and "
                    f"npm (apt-get install npm), or run `npm ci` in {AXE}"
                )
            done = subprocess.run(  # npm from the PATH, fixed arguments
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=AXE,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not AXE_JS.exists():
                pytest.fail(f"`npm ci` in {AXE} failed:\n{done.stdout}\n{done.stderr}")
    return AXE_JS.read_text(encoding="utf-8")


# -- running axe ----------------------------------------------------------------------------------

RUN_AXE = """async () => {
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), impact: n.impact,
                                 summary: n.failureSummary })),
  }));
}"""

CHARTS_DRAWN = """() => Array.from(document.querySelectorAll("[data-figure]"))
  .every((chart) => chart.querySelector(".main-svg") !== null)"""


class Checker:
    """One browser context (a role, a language) with axe in every page it opens."""

    def __init__(self, browser: Any, base: str, axe: str, language: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport=DESKTOP, locale=language)
        self.context.add_cookies([{"name": "scs_lang", "value": language, "url": base}])
        self.context.add_init_script(script=axe)
        self.page = self.context.new_page()
        self.found: list[str] = []
        self.checked: list[str] = []

    def login(self, key: str) -> str:
        """Log in through the form; the page it lands on."""
        self.page.goto(self.base + "/login")
        self.page.fill("#key", key)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        return str(self.page.url)

    def open(self, path: str) -> int:
        answer = self.page.goto(self.base + path)
        assert answer is not None
        return int(answer.status)

    def check(self, where: str) -> None:
        """axe over the page now shown (once its charts are drawn)."""
        self.page.wait_for_function(CHARTS_DRAWN)
        self.checked.append(where)
        for violation in self.page.evaluate(RUN_AXE):
            for node in violation["nodes"]:
                impact = node["impact"] or violation["impact"]
                if impact in ("serious", "critical") or violation["id"] in ALWAYS:
                    self.found.append(
                        f"{where}: {violation['id']} ({impact}) at {node['target']}: "
                        f"{violation['help']}. {node['summary']}"
                    )

    def close(self) -> None:
        self.context.close()


# -- the tests ------------------------------------------------------------------------------------


def test_every_page_route_is_checked(city: tuple[Site, Cases]) -> None:
    site, _ = city
    routes = mounted_page_routes(site.app)
    assert "/me" in routes and "/dashboard" in routes  # the walk finds the pages
    assert routes == set(PAGES), (
        f"pages axe does not check: {sorted(routes - set(PAGES))}; "
        f"listed but gone: {sorted(set(PAGES) - routes)}"
    )


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_these_pages(city: tuple[Site, Cases], role: str) -> None:
    """PAGES names every role that sees a page: the others are refused (or sent to log in)."""
    site, cases = city
    client: TestClient = site.client(role)
    seen = {path for path, (_, url) in PAGES.items() if client.get(url(cases)).status_code == 200}
    assert seen == {path for path, (roles, _) in PAGES.items() if role in roles}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_no_serious_accessibility_violation(
    browser: Any,
    city: tuple[Site, Cases],
    city_server: str,
    axe_script: str,
    role: str,
    language: str,
) -> None:
    site, cases = city
    checker = Checker(browser, city_server, axe_script, language)
    try:
        if role == "anonymous":
            # a refused login and a page that is not there, as a visitor meets them
            checker.open("/login")
            checker.page.fill("#key", "scs_nope_nope")
            with checker.page.expect_navigation():
                checker.page.click("main button[type=submit]")
            checker.check("/login (refused)")
            assert checker.open("/no-such-page") == 404
            checker.check("/no-such-page (404)")
        else:
            key = site.keys[role]
            assert key is not None
            checker.login(key)
            assert checker.open("/me/appeals/999999") == 403  # nobody's case, for every role
            checker.check("a refused page")
        for roles, url in PAGES.values():
            if role in roles:
                target = url(cases)
                assert checker.open(target) == 200, target
                checker.check(f"{target} ({language})")
    finally:
        checker.close()
    assert len(checker.checked) >= 5
    assert not checker.found, f"{len(checker.found)} violations:\n" + "\n".join(checker.found)


def test_a_key_without_pages_is_told_so_accessibly(
    browser: Any, city: tuple[Site, Cases], city_server: str, axe_script: str
) -> None:
    site, _ = city
    for language in LANGUAGES:
        checker = Checker(browser, city_server, axe_script, language)
        try:
            key = site.keys["source"]
            assert key is not None
            assert checker.login(key).endswith("/login")  # the page that says so
            checker.check(f"no pages ({language})")
        finally:
            checker.close()
        assert not checker.found, "\n".join(checker.found)


FADES = """() => {
  const tabs = document.querySelector("nav.tabs");
  const style = getComputedStyle(tabs);
  return {
    overflows: tabs.scrollWidth > tabs.clientWidth + 1,
    scrollbar: style.scrollbarWidth,
    start: style.getPropertyValue("--fade-start"),
    end: style.getPropertyValue("--fade-end"),
    mask: style.maskImage,
  };
}"""


def test_the_policy_tabs_show_that_they_scroll_on_a_phone(
    browser: Any, city: tuple[Site, Cases], city_server: str
) -> None:
    """At 375 px the report's policy tabs overflow: the strip keeps a scrollbar, and the edge
    with more tabs fades out (the right one first, the left one once scrolled to the end); on a
    desktop, where they fit, nothing fades."""
    site, cases = city
    context = browser.new_context(viewport={"width": 375, "height": 812})
    try:
        page = context.new_page()
        page.goto(city_server + "/login")
        page.fill("#key", site.keys["operator"] or "")
        with page.expect_navigation():
            page.click("main button[type=submit]")
        page.goto(f"{city_server}/subjects/{cases.own}")
        at_start = page.evaluate(FADES)
        assert at_start["overflows"], "the tabs fit: nothing to show"
        # (headless Chromium hides every scrollbar: the strip must not hide its own)
        assert at_start["scrollbar"] not in ("none", ""), at_start
        assert (at_start["start"], at_start["end"]) == ("0px", "48px"), at_start
        page.evaluate("document.querySelector('nav.tabs').scrollLeft = 1e6")
        page.wait_for_function(
            "getComputedStyle(document.querySelector('nav.tabs'))"
            ".getPropertyValue('--fade-end') === '0px'"
        )
        at_end = page.evaluate(FADES)
        assert (at_end["start"], at_end["end"]) == ("48px", "0px"), at_end
        page.set_viewport_size(DESKTOP)  # wide: no fade at all
        page.wait_for_function(
            "getComputedStyle(document.querySelector('nav.tabs')).maskImage === 'none'"
        )
        assert not page.evaluate(FADES)["overflows"]
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chart_has_its_numbers_as_a_table(city: tuple[Site, Cases], language: str) -> None:
    """Each chart is followed by its numbers (a table with a caption, a heading per column and
    a row per bar, point or band), headed in the page's language."""
    site, cases = city
    shown = {"en": "The numbers in this chart", "zh-CN": "本图的数据"}[language]
    pages = {
        "operator": ["/dashboard", f"/subjects/{cases.own}?policy=sesame"],
        "subject": ["/me", "/me/report?policy=sesame"],
    }
    charts = 0
    for role, paths in pages.items():
        client = site.client(role)
        for path in paths:
            html = client.get(path, params={"lang": language}).text
            names = re.findall(r'data-figure="figure-([\w-]+)"', html)
            tables = re.findall(
                r'<details class="chart-data">\s*<summary>(.*?)</summary>.*?<caption>(.+?)'
                r"</caption>\s*<thead><tr>(.*?)</tr></thead>\s*<tbody>(.*?)</tbody>",
                html,
                re.S,
            )
            assert len(tables) == len(names) > 0, (path, names)
            for summary, caption, head, body in tables:
                assert summary == shown and caption.strip()
                assert head.count('<th scope="col"') >= 2
                assert body.count('<th scope="row"') >= 1 and "<td" in body
            charts += len(names)
    assert charts >= 8  # the dashboard's five or six, the gauges, categories, history
