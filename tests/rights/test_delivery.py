"""Notice delivery through the outbox, against a real HTTP server on localhost."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.rights.delivery import BACKOFF, MAX_ATTEMPTS, deliver_due, webhook
from socialcredit.rights.sweep import Sweeper, sweep
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.schema import audit_log, notice_outbox, notices
from socialcredit.timeutil import now, parse_instant


@dataclass
class Receiver:
    """What the webhook server received, and how it answers (a status per request, in order;
    the last one repeats)."""

    url: str
    answers: list[int] = field(default_factory=lambda: [204])
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def answer(self) -> int:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            state.received.append((dict(self.headers), body))
            self.send_response(state.answer())
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:  # keep test output clean
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/notices"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _outbox(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(notice_outbox).order_by(notice_outbox.c.id)))


def test_every_notice_is_delivered_once_with_its_idempotency_key(
    village: Settings, receiver: Receiver
) -> None:
    engine = create_engine(village)
    with engine.connect() as conn:
        stored = {n.id: n for n in conn.execute(sa.select(notices))}
    at = now()
    result = deliver_due(engine, webhook(receiver.url), at)
    assert result.delivered == len(stored) > 0 and result.retried == result.failed == 0
    got = {body["id"]: (headers, body) for headers, body in receiver.received}
    assert set(got) == set(stored) and len(receiver.received) == len(stored)
    for notice_id, (headers, body) in got.items():
        assert headers["Idempotency-Key"] == f"notice-{notice_id}"
        assert headers["Content-Type"] == "application/json"
        assert body["kind"] == stored[notice_id].kind and body["headline"]
    assert {(r.state, r.attempts) for r in _outbox(engine)} == {("delivered", 1)}
    # nothing is sent twice
    assert deliver_due(engine, webhook(receiver.url), at + timedelta(days=1)).delivered == 0
    assert len(receiver.received) == len(stored)
    with engine.connect() as conn:
        logged = conn.execute(
            sa.select(sa.func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "notice.deliver", audit_log.c.actor == "system:sweep")
        ).scalar_one()
    assert logged == len(stored)
    engine.dispose()


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    village: Settings, receiver: Receiver
) -> None:
    engine = create_engine(village)
    receiver.answers = [503]
    send = webhook(receiver.url)
    at = parse_instant("2027-01-01T00:00:00Z")
    total = len(_outbox(engine))
    first = deliver_due(engine, send, at)
    assert (first.delivered, first.retried, first.failed) == (0, total, 0)
    row = _outbox(engine)[0]
    assert row.state == "pending" and row.attempts == 1
    assert row.next_attempt_at == at + BACKOFF
    assert row.last_error == f"HTTP 503 from {receiver.url}"
    # not due again before its backoff ends
    assert deliver_due(engine, send, at + BACKOFF - timedelta(microseconds=1)).retried == 0
    moment: datetime = at
    for attempt in range(2, MAX_ATTEMPTS + 1):
        moment = _outbox(engine)[0].next_attempt_at
        assert moment - at >= BACKOFF * (2 ** (attempt - 1) - 1)
        result = deliver_due(engine, send, moment)
        if attempt < MAX_ATTEMPTS:
            assert result.retried == total
    assert result.failed == total
    rows = _outbox(engine)
    assert {(r.state, r.attempts) for r in rows} == {("failed", MAX_ATTEMPTS)}
    assert rows[0].last_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts: HTTP 503")
    assert deliver_due(engine, send, moment + timedelta(days=30)).failed == 0  # stays failed
    engine.dispose()


def test_a_receiver_that_recovers_gets_the_notice(village: Settings, receiver: Receiver) -> None:
    engine = create_engine(village)
    total = len(_outbox(engine))
    receiver.answers = [500] * total + [200]
    at = parse_instant("2027-01-01T00:00:00Z")
    assert deliver_due(engine, webhook(receiver.url), at).retried == total
    assert deliver_due(engine, webhook(receiver.url), at + BACKOFF).delivered == total
    assert {(r.state, r.attempts, r.last_error) for r in _outbox(engine)} == {
        ("delivered", 2, None)
    }
    engine.dispose()


def test_an_unreachable_receiver_is_a_failed_attempt_with_the_reason(village: Settings) -> None:
    engine = create_engine(village)
    at = parse_instant("2027-01-01T00:00:00Z")
    result = deliver_due(engine, webhook("http://127.0.0.1:9/", timeout=2), at)
    assert result.retried == len(_outbox(engine))
    assert _outbox(engine)[0].last_error.startswith("cannot reach http://127.0.0.1:9/")
    engine.dispose()


def test_a_reply_that_is_not_http_is_a_failed_attempt(village: Settings) -> None:
    """A receiver that answers garbage: each notice is retried later (not left leased by an
    exception that ends the sweep)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def garble() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"this is not HTTP\r\n\r\n")

    threading.Thread(target=garble, daemon=True).start()
    engine = create_engine(village)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        result = deliver_due(engine, webhook(url, timeout=2), parse_instant("2027-01-01"))
        assert result.retried == len(_outbox(engine)) > 0
        assert _outbox(engine)[0].last_error.startswith(f"cannot reach {url}")
    finally:
        listener.close()
        engine.dispose()


def test_the_sweep_delivers_to_the_configured_webhook(
    village: Settings, receiver: Receiver
) -> None:
    settings = Settings(
        home=village.home, database_url=village.database_url, notice_webhook_url=receiver.url
    )
    engine = create_engine(settings)
    result = sweep(engine, settings)
    assert result.webhook and result.counts["notices_delivered"] == len(_outbox(engine)) > 0
    engine.dispose()


def test_a_webhook_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="notice_webhook_url"):
        Settings(notice_webhook_url="file:///etc/passwd")


def test_scs_serve_sweeps_on_its_schedule(village: Settings, receiver: Receiver) -> None:
    settings = Settings(
        home=village.home, database_url=village.database_url, notice_webhook_url=receiver.url
    )
    engine = create_engine(settings)
    sweeper = Sweeper(engine, settings, interval=0.05)
    sweeper.start()
    try:
        for _ in range(200):
            if sweeper.runs >= 2:
                break
            threading.Event().wait(0.05)
    finally:
        sweeper.stop()
    assert sweeper.runs >= 2
    assert {r.state for r in _outbox(engine)} == {"delivered"}
    engine.dispose()
