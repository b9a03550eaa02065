"""`scs stream init`: the two streams and the worker's consumer, with the settings under which
an acknowledged record cannot be lost (docs/stream.md, "Durability").

- SCS_RECORDS: file storage; work-queue retention, so that a record leaves the stream only when
  the worker acks it, which it does after the store has committed it; no age, count or size
  limit that could expire a record nobody has read, and `discard: new`, so that a full disk
  refuses new publishes (the publisher sees an error) instead of dropping old ones; deleting and
  purging messages is denied. A duplicate window drops a re-sent `Nats-Msg-Id`.
- SCS_REJECTS: the dead letters, kept (limits retention, no limits), deletion denied.
- `scs-worker`: a durable pull consumer with explicit acks and unlimited redelivery (a limit
  would drop a record that failed too often).
What no stream setting can give, the server's own fsync policy, is checked by `durability`.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import api
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from socialcredit.errors import BrokerUnavailable
from socialcredit.settings import Settings
from socialcredit.stream.connection import Durability, connect, durability
from socialcredit.stream.names import CONSUMER, RECORDS_PREFIX, REJECTS, REJECTS_PREFIX, STREAM


@dataclass(frozen=True)
class Setup:
    records: str  # "created" or "updated"
    rejects: str
    consumer: str
    durability: Durability


def records_config(duplicate_window: float, replicas: int) -> api.StreamConfig:
    return api.StreamConfig(
        name=STREAM,
        description="Records from registered sources, on their way to the store",
        subjects=[RECORDS_PREFIX + ">"],
        retention=api.RetentionPolicy.WORK_QUEUE,
        storage=api.StorageType.FILE,
        discard=api.DiscardPolicy.NEW,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        num_replicas=replicas,
        duplicate_window=duplicate_window,
        deny_delete=True,
        deny_purge=True,
        allow_rollup_hdrs=False,
    )


def rejects_config(duplicate_window: float, replicas: int) -> api.StreamConfig:
    return api.StreamConfig(
        name=REJECTS,
        description="Records the worker rejected, each with its reasons",
        subjects=[REJECTS_PREFIX + ">"],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        discard=api.DiscardPolicy.NEW,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        num_replicas=replicas,
        duplicate_window=duplicate_window,
        deny_delete=True,
    )


def consumer_config(ack_wait: float, max_ack_pending: int) -> api.ConsumerConfig:
    return api.ConsumerConfig(
        durable_name=CONSUMER,
        description="scs stream run: acks after commit and refresh",
        deliver_policy=api.DeliverPolicy.ALL,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=-1,
        max_ack_pending=max_ack_pending,
    )


async def _put_stream(js: JetStreamContext, config: api.StreamConfig) -> str:
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return "created"
    try:
        await js.update_stream(config)
    except APIError as error:
        raise BrokerUnavailable(
            f"cannot update the stream {config.name} to the settings this version needs: "
            f"{error.description} (err {error.err_code})"
        ) from None
    return "updated"


async def init_streams(
    settings: Settings,
    *,
    duplicate_window: float = 300.0,
    ack_wait: float = 30.0,
    max_ack_pending: int = 20_000,
    replicas: int = 1,
) -> Setup:
    """Create or update SCS_RECORDS, SCS_REJECTS and the consumer `scs-worker`."""
    client = await connect(settings)
    try:
        js = client.jetstream()
        try:
            records = await _put_stream(js, records_config(duplicate_window, replicas))
            rejects = await _put_stream(js, rejects_config(duplicate_window, replicas))
            try:
                await js.consumer_info(STREAM, CONSUMER)
                consumer = "updated"
            except NotFoundError:
                consumer = "created"
            await js.add_consumer(STREAM, consumer_config(ack_wait, max_ack_pending))
        except APIError as error:
            raise BrokerUnavailable(
                f"the NATS server at {settings.nats_url} refused: {error.description} "
                f"(err {error.err_code}); is JetStream enabled (`jetstream {{}}`)?"
            ) from None
        return Setup(records, rejects, consumer, durability(settings, client))
    finally:
        await client.close()
