"""`scs stream publish`: a file's records onto SCS_RECORDS, every publish acknowledged.

Rows are read with the same readers as `scs ingest` and published as they are: the worker
validates them against the store, so that a bad record is rejected there with the reasons
`scs ingest` gives (and kept in SCS_REJECTS). Only lines that cannot be read as rows at all
are reported here. Each message carries `Nats-Msg-Id: source/record_id`, so a publish retried
after a lost acknowledgement (a broken connection, a server restart) is dropped by the server
within the duplicate window, and by `accept` (an already stored record_id) after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NoStreamResponseError

from socialcredit.errors import BrokerUnavailable, InvalidInput
from socialcredit.ingest.accept import OPTIONAL, REQUIRED
from socialcredit.ingest.readers import BadLine, Row, read_rows
from socialcredit.ingest.report import Rejection
from socialcredit.settings import Settings
from socialcredit.stream.connection import connect
from socialcredit.stream.messages import encode_row, record_id_of
from socialcredit.stream.names import MSG_ID, STREAM, message_id, records_subject

Numbered = Iterable[tuple[int, Row | BadLine]]
Watch = Callable[[Numbered], Numbered]
TRANSIENT = (
    TimeoutError,
    asyncio.TimeoutError,
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.NoRespondersError,
    NoStreamResponseError,
)


@dataclass
class Published:
    read: int = 0
    acked: int = 0  # stored by the server (first time)
    duplicates: int = 0  # acknowledged as a duplicate of a message in the window
    retries: int = 0
    unreadable: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    acked_ids: list[str] = field(default_factory=list)  # record_ids acknowledged, when kept

    def summary(self) -> str:
        return (
            f"records: {self.read} rows read; {self.acked} published and acknowledged, "
            f"{self.duplicates} already on the stream, {len(self.unreadable)} unreadable "
            f"({self.retries} publishes retried)"
        )


async def _publish_one(
    js: JetStreamContext,
    subject: str,
    payload: bytes,
    headers: dict[str, str] | None,
    deadline: float,
    result: Published,
    record_id: str | None,
    keep_ids: bool,
) -> None:
    """Publish until acknowledged; transient failures (a restart of the server) are retried
    with the same message id until `deadline`."""
    pause = 0.1
    while True:
        try:
            ack = await js.publish(subject, payload, timeout=5, stream=STREAM, headers=headers)
        except TRANSIENT as error:
            if time.monotonic() > deadline:
                raise BrokerUnavailable(
                    f"no acknowledgement for {subject} within the retry time "
                    f"({type(error).__name__}); the records acknowledged so far are on the stream"
                ) from None
            result.retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
            continue
        except APIError as error:
            if error.code == 503 and time.monotonic() <= deadline:  # JetStream not ready yet
                result.retries += 1
                await asyncio.sleep(pause)
                continue
            raise BrokerUnavailable(
                f"the server refused {subject}: {error.description} (err {error.err_code})"
            ) from None
        if ack.duplicate:
            result.duplicates += 1
        else:
            result.acked += 1
        if keep_ids and record_id is not None:
            result.acked_ids.append(record_id)
        return


async def publish_rows(
    settings: Settings,
    rows: Numbered,
    source: str,
    *,
    rate: float | None = None,
    window: int = 512,
    retry_seconds: float = 120.0,
    keep_ids: bool = False,
) -> Published:
    """Publish numbered rows (a reader's output) for `source`, at most `window` acks awaited
    at once, at most `rate` records a second."""
    if rate is not None and rate <= 0:
        raise InvalidInput("rate", f"{rate} is not a positive number of records a second")
    subject = records_subject(source)
    started = time.monotonic()
    result = Published()
    client = await connect(settings, persistent=True)
    try:
        js = client.jetstream()
        slots = asyncio.Semaphore(window)
        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            slots.release()
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())  # type: ignore[arg-type]

        for line, row in rows:
            if failures:
                break
            if isinstance(row, BadLine):
                result.unreadable.append(Rejection(line, "line", row.reason))
                result.read += 1
                continue
            result.read += 1
            record_id = record_id_of(row)
            headers = {MSG_ID: message_id(source, record_id)} if record_id else None
            if rate is not None:
                due = started + (result.read - 1) / rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await slots.acquire()
            deadline = time.monotonic() + retry_seconds
            task = asyncio.create_task(
                _publish_one(
                    js, subject, encode_row(row), headers, deadline, result, record_id, keep_ids
                )
            )
            tasks.add(task)
            task.add_done_callback(done)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if failures:
            raise failures[0]
        await client.flush()
    finally:
        await client.close()
    result.seconds = time.monotonic() - started
    return result


def publish_file(
    settings: Settings,
    path: Path,
    source: str,
    fmt: str | None = None,
    rate: float | None = None,
    watch: Watch | None = None,
) -> Published:
    """Publish a CSV, JSON Lines or Parquet file of records from `source`."""
    records_subject(source)  # a source that cannot be a subject fails before reading
    rows = read_rows(path, REQUIRED, OPTIONAL, fmt)
    return asyncio.run(publish_rows(settings, watch(rows) if watch else rows, source, rate=rate))
