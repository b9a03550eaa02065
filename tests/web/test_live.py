"""The dashboard's live section: rendered whole by the server, then kept current by its event
stream in a real Chromium (no reload); the stream's access rules; and the stream ends when the
client goes away, when the session ends, and when the server shuts down (in-process, and
`scs serve` on Ctrl-C)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn

from socialcredit.api import create_app
from socialcredit.api.bounds import bounded_protocol
from socialcredit.settings import Settings
from socialcredit.sharing import sessions
from socialcredit.store.db import create_engine
from tests.api.conftest import UNLIMITED
from tests.api.test_live import NO_BROKER, add_decision_notice, add_refresh_of
from tests.web.conftest import DESKTOP, Site, copied_home, serving, session_of

ON = "Updating as it happens."
OFF = "Live updates paused; reload the page for newer figures."


@pytest.fixture
def live_site(
    site_home: tuple[Settings, dict[str, str | None], str, str], tmp_path: Path
) -> Iterator[Site]:
    """A copy of the web tests' city of the test's own (these tests write), without a broker."""
    settings, keys, own, other = site_home
    copied = copied_home(settings, tmp_path, nats_url=NO_BROKER)
    engine = create_engine(copied)
    app = create_app(copied.model_copy(update=UNLIMITED), engine)
    yield Site(copied, engine, app, keys, own, other)
    engine.dispose()


# -- the page, without a browser ------------------------------------------------------------------


def test_the_section_is_rendered_whole_by_the_server(live_site: Site) -> None:
    notice = add_decision_notice(live_site.engine, live_site.other, "national", "flight_ban")
    add_refresh_of(live_site.engine, "sesame", records=30, subjects=9)
    staff = live_site.client("operator").get("/dashboard")
    assert staff.status_code == 200
    html = staff.text
    assert 'id="live"' in html and 'aria-live="polite"' in html
    assert f'data-notice="{notice}"' in html  # the new decision, before any script ran
    assert "30 records, 9 subjects rewritten" in html
    assert "No record stream to show" in html  # no broker: said so, not an error page
    assert 'src="/static/live.js"' in html
    auditor = live_site.client("auditor").get("/dashboard")
    assert auditor.status_code == 200
    assert 'id="live"' in auditor.text and 'data-live-part="decisions"' not in auditor.text
    assert live_site.other not in auditor.text


def test_the_section_speaks_chinese(live_site: Site) -> None:
    client = live_site.client("operator")
    html = client.get("/dashboard?lang=zh-CN").text
    assert 'lang="zh-CN"' in html
    for english in (ON, OFF, "Latest decisions that changed", "records per second"):
        assert english not in html


@pytest.mark.parametrize(
    ("role", "status"), [("subject", 403), ("reviewer", 403), ("anonymous", 401)]
)
def test_the_event_stream_has_the_dashboard_s_rules(
    live_site: Site, role: str, status: int
) -> None:
    answer = live_site.client(role).get("/dashboard/live")  # refused at once: no stream opens
    assert answer.status_code == status


# -- the event stream over a real server ------------------------------------------------------


class EventStream:
    """A server-sent event stream read with the standard library: one event at a time."""

    def __init__(self, base: str, cookie: str, path: str = "/dashboard/live") -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=15)
        self.connection.request("GET", path, headers={"Cookie": f"scs_session={cookie}"})
        self.response = self.connection.getresponse()

    def next(self) -> dict[str, str] | None:
        """The next event's fields (None at the end of the stream)."""
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline()
            if not line:
                return None
            text = line.decode().rstrip("\n")
            if not text:
                if fields:
                    return fields
                continue
            name, _, value = text.partition(":")
            fields[name] = fields.get(name, "") + value.strip()

    def rest(self, seconds: float = 5) -> list[dict[str, str]]:
        """Every event until the server ends the stream, which must be within `seconds` (a
        stream that goes on sends an event every second, so a read never times out)."""
        deadline = time.monotonic() + seconds
        found = []
        while (event := self.next()) is not None:
            found.append(event)
            assert time.monotonic() < deadline, f"the stream did not end: {len(found)} events"
        return found

    def close(self) -> None:
        self.connection.close()


@contextmanager
def own_server(site: Site) -> Iterator[tuple[str, uvicorn.Server, threading.Thread]]:
    """uvicorn with the protocol `scs serve` runs, in a thread, for tests that stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        site.app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        http=bounded_protocol(site.settings.max_head_bytes),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", server, thread
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _connections_close(server: uvicorn.Server, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not server.server_state.connections:
            return True
        time.sleep(0.05)
    return False


def test_a_stream_announces_the_decisions_after_the_last_event(live_site: Site) -> None:
    cookie = session_of(live_site, "operator")
    with own_server(live_site) as (base, _, __):
        stream = EventStream(base, cookie)
        try:
            assert stream.response.status == 200
            assert stream.response.getheader("content-type", "").startswith("text/event-stream")
            assert stream.next() == {"retry": "2000"}
            first = stream.next()
            assert first is not None and first["event"] == "live"
            told = int(first["id"])
            notice = add_decision_notice(
                live_site.engine, live_site.other, "national", "flight_ban"
            )
            while True:  # within a second: the change is seen at the next poll
                event = stream.next()
                assert event is not None
                if int(event["id"]) == notice:
                    break
            assert notice > told
            assert '"announce":"Flight ban applied to' in event["data"]
            quiet = stream.next()  # the next snapshot: nothing new to announce
            assert quiet is not None and '"announce":""' in quiet["data"]
        finally:
            stream.close()


def test_the_stream_ends_when_the_client_goes_away(live_site: Site) -> None:
    cookie = session_of(live_site, "operator")
    with own_server(live_site) as (base, server, _):
        stream = EventStream(base, cookie)
        assert stream.next() is not None
        assert len(server.server_state.connections) == 1
        stream.close()
        assert _connections_close(server), "the stream outlived its client"


def test_the_stream_ends_when_the_session_ends(
    live_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("socialcredit.web.pages.live.SESSION_CHECK", 0.2)
    cookie = session_of(live_site, "operator")
    with own_server(live_site) as (base, _, __):
        stream = EventStream(base, cookie)
        try:
            assert stream.next() is not None
            with live_site.engine.begin() as conn:
                assert sessions.end(conn, live_site.app.svc.sessions, cookie)  # logged out
            events = stream.rest()
            assert events[-1] == {"event": "end", "data": "session"}
        finally:
            stream.close()


def test_the_stream_ends_when_the_server_shuts_down(live_site: Site) -> None:
    cookie = session_of(live_site, "operator")
    with own_server(live_site) as (base, server, thread):
        stream = EventStream(base, cookie)
        assert stream.next() is not None
        started = time.monotonic()
        server.should_exit = True  # what uvicorn's Ctrl-C handler does
        rest = stream.rest()  # the stream ends: the body's last chunk, no error
        thread.join(timeout=10)
        assert not thread.is_alive(), "the server waited for the event stream"
        assert time.monotonic() - started < 3
        assert all(e.get("event") == "live" for e in rest)
        stream.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _login(base: str, key: str) -> str:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=15)
    body = urlencode({"key": key})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Sec-Fetch-Site": "same-origin",
    }
    connection.request("POST", "/login", body=body, headers=headers)
    answer = connection.getresponse()
    assert answer.status == 303, answer.read()
    cookie = answer.getheader("set-cookie") or ""
    connection.close()
    return cookie.split("scs_session=", 1)[1].split(";", 1)[0]


def test_scs_serve_stops_on_ctrl_c_with_a_stream_open(live_site: Site, tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SCS_HOME": str(live_site.settings.home),
        "SCS_NATS_URL": NO_BROKER,
        "SCS_SWEEP_INTERVAL": "0",
        "SCS_AUDIT_CHECKPOINT_SECONDS": "0",
    }
    env.pop("SCS_DATABASE_URL", None)
    said = tmp_path / "serve.log"
    with said.open("wb") as log:
        server = subprocess.Popen(  # the real command, as an operator starts it
            [sys.executable, "-m", "socialcredit.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, said.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "scs serve did not start"
                time.sleep(0.1)
        key = live_site.keys["operator"]
        assert key is not None
        stream = EventStream(base, _login(base, key))
        assert stream.next() == {"retry": "2000"}
        first = stream.next()
        assert first is not None and first["event"] == "live"
        started = time.monotonic()
        server.send_signal(signal.SIGINT)  # Ctrl-C
        stream.rest()
        stream.close()
        code = server.wait(timeout=10)
        assert time.monotonic() - started < 5, "scs serve waited for the event stream"
        assert code == 0, said.read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


# -- in a real Chromium ----------------------------------------------------------------------


def test_the_section_updates_without_a_reload(browser: Any, live_site: Site) -> None:
    from playwright.sync_api import expect

    with serving(live_site.app) as base:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        try:
            page.goto(base + "/login")
            page.fill("#key", live_site.keys["operator"] or "")
            with page.expect_navigation():
                page.click("main button[type=submit]")
            page.goto(base + "/dashboard")
            expect(page.locator("#live-state")).to_have_text(ON)  # the stream is open
            page.evaluate("window.scsNotReloaded = true")

            add_refresh_of(live_site.engine, "sesame", records=25, subjects=7)
            notice = add_decision_notice(
                live_site.engine, live_site.other, "national", "flight_ban"
            )

            row = page.locator(f'#live tr[data-notice="{notice}"]')
            expect(row).to_be_visible()
            expect(row).to_contain_text("Flight ban")
            expect(row).to_contain_text("applied")
            expect(page.locator('[data-live-part="stats"]')).to_contain_text(
                "25 records, 7 subjects rewritten"
            )
            expect(page.locator("#live-announce")).to_have_text(
                # the one new decision is read out; nothing else
                f"Flight ban applied to {row.locator('a').inner_text()} (national)."
            )

            # The keyboard keeps its place when the table is rendered anew.
            link = row.locator("a")
            link.focus()
            href = link.get_attribute("href")
            later = add_decision_notice(
                live_site.engine, live_site.other, "national", "flight_ban", applied=False
            )
            expect(page.locator(f'#live tr[data-notice="{later}"]')).to_contain_text("lifted")
            assert page.evaluate("document.activeElement.getAttribute('href')") == href
            assert page.evaluate("window.scsNotReloaded") is True  # the same page all along
        finally:
            context.close()
    assert problems == [], problems
