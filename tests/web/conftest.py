"""The web pages' fixtures: the small demo city, evaluated at three instants (so that the
dashboard has a trend), with a key of every role; a client per role, logged in with the cookie.

Built once per session with the CLI, like the API tests' demo (whose helpers it reuses).
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.api.app import Api
from socialcredit.api.bounds import bounded_protocol
from socialcredit.settings import Settings
from socialcredit.sharing import sessions
from socialcredit.sharing.keys import principal_of
from socialcredit.store.db import create_engine
from socialcredit.store.schema import api_keys, audit_log
from tests.api.conftest import DEMO, UNLIMITED, far_from, mint_keys, own_ban, scs

EARLIER = ("2026-05-01", "2026-08-01")  # before the demo's as_of (2026-11-01)


@dataclass
class Site:
    settings: Settings
    engine: sa.Engine
    app: Api
    keys: dict[str, str | None]  # role -> key; "anonymous" -> None
    own: str  # the subject key's subject: with a flight ban of its own now
    other: str  # another person, far from `own` in the relationship graph

    def client(self, role: str = "anonymous") -> TestClient:
        """A browser-like client; logged in through the form unless anonymous."""
        client = TestClient(self.app, raise_server_exceptions=False)
        key = self.keys[role]
        if key is not None:
            answer = client.post("/login", data={"key": key}, follow_redirects=False)
            assert answer.status_code in (200, 303), answer.text
        return client

    def audit_seq(self) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar_one()
        return int(found or 0)

    def audit_after(self, seq: int) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(audit_log).where(audit_log.c.seq > seq).order_by(audit_log.c.seq)
                )
            )


def session_of(site: Site, role: str) -> str:
    """A session cookie for a role's key, stored as a login would store it, also for keys the
    login form refuses (revoked) or gives no pages (gate and source keys)."""
    key = site.keys[role]
    assert key is not None
    prefix = key.split("_")[1]
    with site.engine.begin() as conn:
        key_row = conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)).one()
        return sessions.start(conn, site.app.svc.sessions, principal_of(conn, key_row))


def figures(html: str) -> dict[str, Any]:
    """The plotly figures a page embeds, by name."""
    found = re.findall(
        r'<script type="application/json" id="figure-([\w-]+)">(.*?)</script>', html, re.S
    )
    return {name: orjson.loads(body) for name, body in found}


@pytest.fixture(scope="session")
def site_home(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Settings, dict[str, str | None], str, str]:
    settings = Settings(home=tmp_path_factory.mktemp("web") / "scs-data")
    scs(settings, *DEMO)
    for as_of in EARLIER:
        scs(settings, "evaluate", "--as-of", as_of)
    engine = create_engine(settings)
    with engine.connect() as conn:
        own = own_ban(conn)
        other = far_from(conn, own)
    keys = mint_keys(engine, own)
    engine.dispose()
    return settings, keys, own, other


@pytest.fixture(scope="session")
def site(site_home: tuple[Settings, dict[str, str | None], str, str]) -> Iterator[Site]:
    settings, keys, own, other = site_home
    engine = create_engine(settings)
    # These tests ask for hundreds of refusals a minute from one client address on purpose;
    # past the failure budget they would be answered 429 (tests/api/test_throttle.py checks the
    # limits). The browser tests run on an app with the default limits (test_browser.server).
    app = create_app(settings.model_copy(update=UNLIMITED), engine)
    yield Site(settings, engine, app, keys, own, other)
    engine.dispose()


def copied_home(settings: Settings, tmp_path: Path, **changes: Any) -> Settings:
    """The settings of a copy of the web tests' city under `tmp_path`, for tests that write."""
    home = tmp_path / "scs-data"
    home.mkdir()
    # SQLite's backup, not a file copy: the shared store runs in WAL mode, and a copy of the main
    # file alone would miss what other tests wrote and the WAL still holds
    source, copy = sqlite3.connect(settings.home / "scs.db"), sqlite3.connect(home / "scs.db")
    with source, copy:
        source.backup(copy)
    source.close()
    copy.close()
    return Settings(home=home, **changes)


@pytest.fixture
def writable(
    site_home: tuple[Settings, dict[str, str | None], str, str], tmp_path: Path
) -> Iterator[Site]:
    """A copy of the web tests' city of the test's own: these tests write."""
    settings, keys, own, other = site_home
    copied = copied_home(settings, tmp_path)
    engine = create_engine(copied)
    yield Site(copied, engine, create_app(copied, engine), keys, own, other)
    engine.dispose()


# The browser tests' one Chromium (Debian's `chromium`, driven by Playwright), shared by every
# browser test module: Playwright's sync API runs one instance per thread.
CHROMIUM = os.environ.get("SCS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CHARTS = ".js-plotly-plot .main-svg"


def _missing(reason: str) -> None:
    if os.environ.get("SCS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the browser tests are required (SCS_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@contextmanager
def serving(app: Api) -> Iterator[str]:
    """The real service (uvicorn) over `app`, on a free local port, in a thread of its own."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The protocol `scs serve` runs (a bounded head; it tells event streams of a shutdown).
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        http=bounded_protocol(app.svc.settings.max_head_bytes),
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        if not thread.is_alive():
            pytest.fail("the server did not start")
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)
