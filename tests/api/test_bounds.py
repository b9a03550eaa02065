"""Bounds on a request: a head past the limit is answered 431 by the real server (uvicorn with
httptools) without reading the rest, and a concurrent request is not kept waiting; a body past
the limit is answered 413 without reading the rest; a 405 names the allowed methods."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import Message, Scope

from socialcredit.api import create_app
from socialcredit.api.bounds import BodyLimit, bounded_protocol
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.schema import records
from tests.api.conftest import World, copy_demo, read_keys

HEAD_LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def server(demo_home: tuple[Path, str, str]) -> Iterator[tuple[str, int]]:
    """The service on a real uvicorn (httptools, bounded head) on a free loopback port."""
    settings = Settings(home=demo_home[0], max_head_bytes=HEAD_LIMIT)
    engine = create_engine(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, engine),
        host="127.0.0.1",
        port=port,
        http=bounded_protocol(settings.max_head_bytes),
        log_level="warning",
        lifespan="off",
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        if not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


def exchange(address: tuple[str, int], head: bytes, filler: int = 0) -> tuple[bytes, int]:
    """Send `head`, then up to `filler` more bytes of one header value, in 64 KiB pieces,
    until the server stops reading; returns the answer and how many filler bytes it took."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(head)
        sent = 0
        piece = b"a" * 65536
        try:
            while sent < filler:
                conn.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we were still sending was not read
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer, sent


def status_and_body(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), orjson.loads(payload)


def healthz(address: tuple[str, int]) -> tuple[int, float]:
    started = time.perf_counter()
    answer, _ = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return int(answer.split(b" ", 2)[1]), time.perf_counter() - started


def test_a_huge_header_is_refused_431_without_reading_it(server: tuple[str, int]) -> None:
    results: dict[str, object] = {}

    def attack() -> None:
        start = b"GET /v1/lists HTTP/1.1\r\nHost: x\r\nX-Filler: "
        results["answer"], results["sent"] = exchange(server, start, filler=64 * 1024 * 1024)

    attacker = threading.Thread(target=attack)
    attacker.start()
    time.sleep(0.05)
    # A concurrent request is served meanwhile: a server that blocked on the huge head would
    # let this exchange run into its socket timeout (no wall-clock threshold here: the machine
    # is shared, and a busy one is slow without being wrong).
    status, _ = healthz(server)
    attacker.join(timeout=60)
    assert not attacker.is_alive()
    assert status == 200
    answer = results["answer"]
    assert isinstance(answer, bytes)
    code, payload = status_and_body(answer)
    assert code == 431
    assert payload["error"]["code"] == "headers_too_large"  # type: ignore[index]
    assert str(HEAD_LIMIT) in payload["error"]["message"]  # type: ignore[index]
    # the server stopped reading long before the 64 MiB were sent
    assert isinstance(results["sent"], int) and results["sent"] < 16 * 1024 * 1024


def test_a_head_within_the_limit_is_served(server: tuple[str, int]) -> None:
    filler = b"b" * (HEAD_LIMIT // 2)
    head = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: "
        + filler
        + b"\r\nConnection: close\r\n\r\n"
    )
    answer, _ = exchange(server, head)
    assert answer.startswith(b"HTTP/1.1 200")


def test_many_headers_count_together(server: tuple[str, int]) -> None:
    many = b"".join(b"X-H%d: %s\r\n" % (n, b"c" * 100) for n in range(HEAD_LIMIT // 50))
    answer, _ = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status_and_body(answer)[0] == 431


def test_keep_alive_requests_are_counted_one_by_one(server: tuple[str, int]) -> None:
    """The count starts again at each request: many small requests on one connection pass."""
    one = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"d" * 1000 + b"\r\n\r\n"
    last = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer, _ = exchange(server, one * 40 + last)
    assert answer.count(b"HTTP/1.1 200") == 41


@pytest.fixture
def small_body(demo_home: tuple[Path, str, str], tmp_path: Path) -> Iterator[World]:
    home, own, other = copy_demo(demo_home, tmp_path)
    settings = Settings(home=home, max_body_bytes=4096)
    engine = create_engine(settings)
    app = create_app(settings, engine)
    client = TestClient(app, raise_server_exceptions=False)
    yield World("small body", settings, engine, app, client, read_keys(settings), own, other)
    client.close()
    engine.dispose()


def _records(n: int) -> bytes:
    rows = [
        {
            "record_id": f"r{i}",
            "subject": "ext:x",
            "type": "finance.payment.late",
            "occurred_at": "2026-03-01",
        }
        for i in range(n)
    ]
    return orjson.dumps({"source": "bank", "records": rows})


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(records)).scalar_one())


@pytest.mark.parametrize("chunked", [False, True])
def test_a_large_body_is_refused_413_and_changes_nothing(small_body: World, chunked: bool) -> None:
    before, seq = _count(small_body.engine), small_body.audit_seq()
    payload = _records(200)
    assert len(payload) > 4096
    content: bytes | Iterator[bytes] = (
        iter([payload[i : i + 1000] for i in range(0, len(payload), 1000)]) if chunked else payload
    )
    response = small_body.client.post(
        "/v1/records",
        content=content,
        headers=small_body.headers("operator", **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert error["details"] == [
        {"field": "body", "reason": "the request body is larger than 4096 bytes"}
    ]
    assert _count(small_body.engine) == before
    assert small_body.audit_seq() == seq


def test_a_body_within_the_limit_passes(small_body: World) -> None:
    response = small_body.client.post(
        "/v1/records",
        content=iter([_records(2)]),
        headers=small_body.headers("operator", **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2


async def _run_limit(declared: bytes | None, pieces: int) -> tuple[list[Message], int, bool]:
    """BodyLimit(limit=100) over an app that would read the body; returns what was sent, how
    many pieces were read of the `pieces` offered, and whether the app was called."""
    read = 0
    called = False

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 40, "more_body": read < pieces}

    async def app(scope: Scope, receive_: object, send_: object) -> None:
        nonlocal called
        called = True

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"content-length", declared)] if declared else [(b"transfer-encoding", b"chunked")]
    scope = {"type": "http", "method": "POST", "path": "/v1/records", "headers": headers}
    await BodyLimit(app, 100)(scope, receive, send)  # type: ignore[arg-type]
    return sent, read, called


def test_nothing_is_read_past_the_limit() -> None:
    sent, read, called = asyncio.run(_run_limit(b"1000000", 1000))
    assert (sent[0]["status"], read, called) == (413, 0, False)  # declared: not a byte read
    sent, read, called = asyncio.run(_run_limit(None, 1000))
    assert (sent[0]["status"], read, called) == (413, 3, False)  # chunked: up to the limit
    assert (b"connection", b"close") in sent[0]["headers"]
    sent, read, called = asyncio.run(_run_limit(None, 2))
    assert (sent, read, called) == ([], 2, True)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/records", "POST"),
        ("DELETE", "/v1/policies", "GET, POST"),
        ("POST", "/v1/lists", "GET"),
    ],
)
def test_a_405_names_the_allowed_methods(demo: World, method: str, path: str, allow: str) -> None:
    response = demo.client.request(method, path, headers=demo.headers("admin"))
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_browser_405_names_the_allowed_methods(demo: World) -> None:
    response = demo.client.request("DELETE", "/", headers={"Accept": "text/html"})
    assert response.status_code == 405
    assert "text/html" in response.headers["content-type"]
    assert "GET" in response.headers["allow"]


def test_a_static_file_405_names_get_and_head(demo: World) -> None:
    response = demo.client.request("POST", "/static/docs/swagger-ui.css")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
