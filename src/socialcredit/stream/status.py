"""How far the stream's worker is behind: the JetStream consumer's counts, for the dashboard.

Read-only: it asks the server about the stream `SCS_RECORDS`, its durable consumer `scs-worker`
and the dead-letter stream `SCS_REJECTS` (names in docs/realtime.md), and changes nothing. It
answers None when there is no stream to show: `SCS_NATS_URL` is empty, the broker does not
answer within `timeout`, or `SCS_RECORDS` was never created (`scs stream init`). A dashboard
must never fail because a broker is down, so no error of the broker's passes this function.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from socialcredit.settings import Settings

log = logging.getLogger("socialcredit.stream")

STREAM = "SCS_RECORDS"
CONSUMER = "scs-worker"
REJECTS = "SCS_REJECTS"
TIMEOUT = 0.5  # seconds for the whole question: a page waits no longer for a missing broker


@dataclass(frozen=True)
class StreamStatus:
    messages: int  # records the stream holds
    pending: int  # records not yet delivered to the worker (the consumer's num_pending)
    ack_pending: int  # delivered, not yet acknowledged (in the worker's hands)
    redelivered: int  # delivered more than once and not yet acknowledged
    rejects: int  # records in the dead-letter stream
    last_delivered: datetime | None  # when the worker last fetched a record
    worker: bool  # the durable consumer exists (the worker has run at least once)

    @property
    def lag(self) -> int:
        """Records the worker has not finished: not yet delivered, or not yet acknowledged."""
        return self.pending + self.ack_pending


def stream_status(settings: Settings, timeout: float = TIMEOUT) -> StreamStatus | None:
    """The stream's status now, or None when there is no stream to show (see the module)."""
    if not settings.nats_url.strip():
        return None
    try:
        return asyncio.run(asyncio.wait_for(_ask(settings.nats_url, timeout), timeout * 2))
    except Exception as error:  # noqa: BLE001 - any failure of the broker's: no stream to show
        log.debug("no stream status from %s: %s", settings.nats_url, error)
        return None


async def _ask(url: str, timeout: float) -> StreamStatus | None:
    import nats  # imported here: only a dashboard with a broker pays for it
    from nats.js.errors import NotFoundError

    async def quiet(_: Exception) -> None:
        return None  # nats-py logs every failed attempt otherwise; None is the answer here

    client = await nats.connect(
        url,
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=1,  # 0 would mean "try for ever"
        reconnect_time_wait=0,
        error_cb=quiet,
    )
    try:
        js = client.jetstream(timeout=timeout)
        try:
            stream = await js.stream_info(STREAM)
        except NotFoundError:
            return None
        try:
            rejects = (await js.stream_info(REJECTS)).state.messages
        except NotFoundError:
            rejects = 0
        try:
            consumer = await js.consumer_info(STREAM, CONSUMER)
        except NotFoundError:
            # No worker yet: a durable consumer created now would be handed every record.
            return StreamStatus(
                stream.state.messages, stream.state.messages, 0, 0, rejects, None, False
            )
        delivered = consumer.delivered
        return StreamStatus(
            messages=stream.state.messages,
            pending=consumer.num_pending or 0,
            ack_pending=consumer.num_ack_pending or 0,
            redelivered=consumer.num_redelivered or 0,
            rejects=rejects,
            last_delivered=delivered.last_active if delivered else None,
            worker=True,
        )
    finally:
        await client.close()


class StatusCache:
    """`stream_status`, asked at most once every `seconds` for all the readers of one service
    (every open dashboard asks each second; the broker is asked once)."""

    def __init__(self, settings: Settings, seconds: float = 1.0) -> None:
        self.settings = settings
        self.seconds = seconds
        self._lock = threading.Lock()
        self._asked = -math.inf
        self._status: StreamStatus | None = None

    def get(self) -> StreamStatus | None:
        with self._lock:  # one question at a time: the others wait for its answer
            if time.monotonic() - self._asked >= self.seconds:
                self._status = stream_status(self.settings)
                self._asked = time.monotonic()
            return self._status
