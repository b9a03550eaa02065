"""`scs stream run`: the durable pull consumer that moves records from the stream to the store.

For each micro-batch: accept it in one transaction (`batch.apply_batch`), commit, refresh the
outcomes (`catch_up`), put the rejected messages on SCS_REJECTS, and only then ack. A crash
anywhere before the ack leaves the messages un-acked: the server delivers them again after the
consumer's ack wait, and a record already stored is "unchanged" the second time, so nothing is
lost and nothing counts twice. While a batch is being worked on, the worker tells the server
it is in progress, so that a slow refresh does not cause a redelivery. SIGTERM or SIGINT ends
the run after the batch in hand is acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

import nats
import sqlalchemy as sa
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from socialcredit.errors import BrokerUnavailable
from socialcredit.outcomes.live_data import LiveData
from socialcredit.outcomes.refresh import catch_up
from socialcredit.settings import Settings
from socialcredit.stream.batch import Applied, Incoming, apply_batch
from socialcredit.stream.connection import connect
from socialcredit.stream.names import CONSUMER, STREAM
from socialcredit.stream.rejects import publish_rejects

Say = Callable[[str], None]


@dataclass
class Totals:
    batches: int = 0
    messages: int = 0
    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0

    def add(self, applied: Applied) -> None:
        self.batches += 1
        self.messages += applied.messages
        self.accepted += applied.accepted
        self.unchanged += applied.unchanged
        self.rejected += len(applied.rejected)

    def summary(self) -> str:
        return (
            f"{self.messages} messages in {self.batches} batches: {self.accepted} accepted, "
            f"{self.unchanged} already stored, {self.rejected} rejected"
        )


@dataclass(frozen=True)
class WorkerOptions:
    batch: int = 1000  # at most this many messages a micro-batch
    wait: float = 1.0  # seconds a fetch waits for the first message
    linger: float = 0.0  # after the first message, seconds to wait for more (up to `batch`)
    idle_exit: float | None = None  # stop after this many seconds with nothing to do


async def _keep_in_progress(messages: list[Msg], every: float) -> None:
    """Tell the server the batch is still being worked on (it resets the ack wait)."""
    while True:
        await asyncio.sleep(every)
        for message in messages:
            with contextlib.suppress(nats.errors.Error):  # a reconnect in progress: next time
                await message.in_progress()


async def work(
    engine: sa.Engine,
    settings: Settings,
    options: WorkerOptions,
    stop: asyncio.Event,
    say: Say | None = None,
) -> Totals:
    """Fetch, apply, refresh, reject, ack, until `stop` is set (or `idle_exit` passes idle)."""
    tell = say or (lambda _: None)
    totals = Totals()
    started = time.monotonic()
    client = await connect(settings, persistent=True)
    try:
        js = client.jetstream()
        try:
            info = await js.consumer_info(STREAM, CONSUMER)
        except NotFoundError:
            raise BrokerUnavailable(
                f"no stream {STREAM} with the consumer {CONSUMER} at {settings.nats_url}; "
                "create them with `scs stream init`"
            ) from None
        ack_wait = info.config.ack_wait or 30.0
        sub = await js.pull_subscribe_bind(durable=CONSUMER, stream=STREAM)
        # The registry in the engine, kept current between batches (a refresh reads only what
        # the log added since); a crash loses nothing but this cache.
        cache = LiveData(settings)
        idle_since = time.monotonic()
        while not stop.is_set():
            try:
                messages = await sub.fetch(options.batch, timeout=options.wait)
            except (TimeoutError, nats.errors.TimeoutError):
                if options.idle_exit is not None and (
                    time.monotonic() - idle_since >= options.idle_exit
                ):
                    break
                continue
            except nats.errors.Error:  # reconnecting to a restarted server: fetch again
                if client.is_closed:
                    raise
                await asyncio.sleep(0.2)
                continue
            if not messages:
                continue
            messages += await _more(sub, options, len(messages))
            applied = await _handle(engine, settings, cache, js, client, messages, ack_wait)
            totals.add(applied)
            idle_since = time.monotonic()
            tell(
                f"batch of {applied.messages}: {applied.accepted} accepted, "
                f"{applied.unchanged} already stored, {len(applied.rejected)} rejected"
            )
    finally:
        # Every batch was acked and flushed; close (drain would wait for the pull subscription).
        await client.close()
    totals.seconds = time.monotonic() - started
    return totals


async def _more(
    sub: JetStreamContext.PullSubscription, options: WorkerOptions, have: int
) -> list[Msg]:
    """With `linger`, fill the batch for up to that long: fewer, larger batches when the
    stream is busy (each batch pays for one refresh), at the cost of that much latency."""
    more: list[Msg] = []
    deadline = time.monotonic() + options.linger
    while have + len(more) < options.batch:
        left = deadline - time.monotonic()
        if left <= 0.001:
            break
        try:
            more += await sub.fetch(options.batch - have - len(more), timeout=left)
        except (TimeoutError, nats.errors.TimeoutError):
            break
    return more


async def _handle(
    engine: sa.Engine,
    settings: Settings,
    cache: LiveData,
    js: nats.js.JetStreamContext,
    client: Client,
    messages: list[Msg],
    ack_wait: float,
) -> Applied:
    incoming = [Incoming(m.subject, m.data, m.metadata.sequence.stream) for m in messages]
    beat = asyncio.create_task(_keep_in_progress(messages, max(ack_wait / 3, 0.5)))
    try:
        applied = await asyncio.to_thread(apply_batch, engine, incoming)
        await asyncio.to_thread(catch_up, engine, settings, data_cache=cache)
        if applied.rejected:
            await publish_rejects(js, applied.rejected)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    for message in messages:
        await message.ack()
    # An ack lost to a broken connection only means a redelivery, which changes nothing.
    with contextlib.suppress(nats.errors.Error, asyncio.TimeoutError):
        await client.flush(timeout=10)
    return applied


def run_worker(
    engine: sa.Engine, settings: Settings, options: WorkerOptions, say: Say | None = None
) -> Totals:
    """Run until SIGTERM or SIGINT (which finish the batch in hand, ack it, and return)."""

    async def main() -> Totals:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        try:
            return await work(engine, settings, options, stop, say)
        finally:
            for number in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(number)

    return asyncio.run(main())
