"""`scs stream status`: the stream's and the worker consumer's numbers, as the server has them.

(The live view's `stream.status.stream_status` answers None where there is no broker; this
one raises BrokerUnavailable, as a command should.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from nats.js.errors import NotFoundError

from socialcredit.errors import BrokerUnavailable
from socialcredit.settings import Settings
from socialcredit.stream.connection import Durability, connect, durability
from socialcredit.stream.names import CONSUMER, REJECTS, STREAM


@dataclass(frozen=True)
class StreamNumbers:
    server: str
    durability: Durability
    messages: int  # in SCS_RECORDS: published and not yet acked by the worker
    first_seq: int
    last_seq: int
    pending: int  # not yet delivered to the worker
    ack_pending: int  # delivered, not yet acked
    redelivered: int  # delivered more than once and not yet acked
    delivered_seq: int
    ack_floor: int
    waiting: int  # the worker's open fetches
    rejects: int  # messages in SCS_REJECTS

    def rows(self) -> list[tuple[str, object]]:
        return [
            ("server", f"NATS {self.server}"),
            ("fsync", self.durability.note),
            (f"{STREAM} messages", self.messages),
            (
                f"{STREAM} sequence",
                f"{self.first_seq}..{self.last_seq}"
                if self.messages
                else f"empty; {self.last_seq} published in all",
            ),
            (f"{CONSUMER} pending", self.pending),
            (f"{CONSUMER} ack pending", self.ack_pending),
            (f"{CONSUMER} redelivered", self.redelivered),
            (f"{CONSUMER} delivered up to", self.delivered_seq),
            (f"{CONSUMER} acked up to", self.ack_floor),
            (f"{CONSUMER} waiting fetches", self.waiting),
            (f"{REJECTS} messages", self.rejects),
        ]


async def _numbers(settings: Settings) -> StreamNumbers:
    client = await connect(settings)
    try:
        js = client.jetstream()
        try:
            stream = await js.stream_info(STREAM)
            consumer = await js.consumer_info(STREAM, CONSUMER)
            rejects = await js.stream_info(REJECTS)
        except NotFoundError:
            raise BrokerUnavailable(
                f"no {STREAM}, {REJECTS} or {CONSUMER} at {settings.nats_url}; "
                "create them with `scs stream init`"
            ) from None
        return StreamNumbers(
            server=str(client._server_info.get("version", "unknown")),
            durability=durability(settings, client),
            messages=stream.state.messages,
            first_seq=stream.state.first_seq,
            last_seq=stream.state.last_seq,
            pending=consumer.num_pending or 0,
            ack_pending=consumer.num_ack_pending or 0,
            redelivered=consumer.num_redelivered or 0,
            delivered_seq=consumer.delivered.stream_seq if consumer.delivered else 0,
            ack_floor=consumer.ack_floor.stream_seq if consumer.ack_floor else 0,
            waiting=consumer.num_waiting or 0,
            rejects=rejects.state.messages,
        )
    finally:
        await client.close()


def stream_numbers(settings: Settings) -> StreamNumbers:
    return asyncio.run(_numbers(settings))
