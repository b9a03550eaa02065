"""`stream_status` against a real NATS server of the test's own (nats-server on a free loopback
port, its own store folder): the consumer's counts as the worker leaves them; None without a
broker, without the stream, and with no broker configured."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialcredit.settings import Settings
from socialcredit.stream.status import CONSUMER, REJECTS, STREAM, stream_status

NATS_SERVER = shutil.which("nats-server")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (apt-get install nats-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path / "jetstream"
    log = (tmp_path / "nats.log").open("wb")
    server = subprocess.Popen(
        [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no nats-server"
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


async def _worker_leaves(url: str) -> None:
    """Five records published, a rejected one in the dead-letter stream; the worker fetched
    three, acknowledged one, and left two in hand."""
    import nats
    from nats.js.api import ConsumerConfig

    client = await nats.connect(url)
    try:
        js = client.jetstream()
        await js.add_stream(name=STREAM, subjects=["scs.records.>"])
        await js.add_stream(name=REJECTS, subjects=["scs.rejects.>"])
        for i in range(5):
            await js.publish("scs.records.bank", f'{{"record_id": "r{i}"}}'.encode())
        await js.publish("scs.rejects.bank", b'{"reasons": ["bad"]}')
        pull = await js.pull_subscribe(
            "scs.records.>", durable=CONSUMER, config=ConsumerConfig(ack_wait=60)
        )
        fetched = await pull.fetch(3, timeout=5)
        await fetched[0].ack()
    finally:
        await client.close()


def test_the_consumer_s_counts(broker: str) -> None:
    settings = Settings(nats_url=broker)
    assert stream_status(settings) is None  # no stream yet: nothing to show
    asyncio.run(_worker_leaves(broker))
    status = stream_status(settings)
    assert status is not None
    assert (status.messages, status.pending, status.ack_pending) == (5, 2, 2)
    assert (status.redelivered, status.rejects, status.worker) == (0, 1, True)
    assert status.lag == 4
    assert status.last_delivered is not None


def test_no_broker_is_none_quickly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    assert stream_status(Settings(nats_url=f"nats://127.0.0.1:{port}")) is None
    assert stream_status(Settings(nats_url="")) is None  # no broker configured
    assert time.monotonic() - started < 5  # a short timeout, not a hang
