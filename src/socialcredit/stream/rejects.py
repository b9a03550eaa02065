"""The dead letters: SCS_REJECTS holds every rejected message with its reasons.

A reject is published before the original message is acked, with `Nats-Msg-Id:
reject/<sequence>`, so a batch redelivered after a crash does not list a message twice (within
the duplicate window).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats
from nats.js import api
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from socialcredit.errors import BrokerUnavailable
from socialcredit.settings import Settings
from socialcredit.stream.batch import Rejected
from socialcredit.stream.connection import connect
from socialcredit.stream.names import MSG_ID, REJECTS, REJECTS_PREFIX, rejects_subject
from socialcredit.stream.publish import TRANSIENT
from socialcredit.timeutil import format_instant, parse_instant


@dataclass(frozen=True)
class Reject:
    source: str
    record_id: str | None
    seq: int  # the message's sequence in SCS_RECORDS
    subject: str
    received_at: datetime
    reasons: list[tuple[str, str]]
    message: str  # the message as it came (UTF-8, undecodable bytes replaced)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record_id": self.record_id,
            "seq": self.seq,
            "subject": self.subject,
            "received_at": format_instant(self.received_at) or "",
            "reasons": [{"field": f, "reason": r} for f, r in self.reasons],
            "message": self.message,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Reject:
        return cls(
            document["source"],
            document.get("record_id"),
            int(document["seq"]),
            document["subject"],
            parse_instant(document["received_at"]),
            [(r["field"], r["reason"]) for r in document["reasons"]],
            document["message"],
        )


def as_reject(rejected: Rejected) -> Reject:
    return Reject(
        rejected.source,
        rejected.record_id,
        rejected.message.seq,
        rejected.message.subject,
        rejected.received_at,
        list(rejected.reasons),
        rejected.message.data.decode("utf-8", errors="replace"),
    )


async def publish_rejects(
    js: JetStreamContext, rejected: Sequence[Rejected], retry_seconds: float = 120.0
) -> None:
    """Put each rejected message on SCS_REJECTS and wait for every acknowledgement; a failure
    raises, and the originals stay un-acked (they come back, and are rejected again)."""

    async def one(item: Rejected) -> None:
        reject = as_reject(item)
        subject = rejects_subject(_subject_safe(reject.source))
        headers = {MSG_ID: f"reject/{reject.seq}"}
        payload = json.dumps(reject.as_json(), ensure_ascii=False).encode()
        deadline = time.monotonic() + retry_seconds
        while True:
            try:
                await js.publish(subject, payload, timeout=5, stream=REJECTS, headers=headers)
                return
            except TRANSIENT:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one(item) for item in rejected))


def _subject_safe(source: str) -> str:
    """A source token the rejects' subject can carry (an unknown source may be anything)."""
    parts = [p for p in source.split(".") if p]
    cleaned = ".".join("".join(c if c.isalnum() or c in "_-" else "_" for c in p) for p in parts)
    return cleaned or "_"


async def _read_rejects(settings: Settings, source: str | None, limit: int) -> list[Reject]:
    client = await connect(settings)
    try:
        js = client.jetstream()
        try:
            info = await js.stream_info(REJECTS)
        except NotFoundError:
            raise BrokerUnavailable(
                f"no stream {REJECTS} at {settings.nats_url}; create it with `scs stream init`"
            ) from None
        if info.state.messages == 0:
            return []
        subject = rejects_subject(_subject_safe(source)) if source else REJECTS_PREFIX + ">"
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.ALL,
            inactive_threshold=30.0,
            filter_subject=subject,
        )
        sub = await js.pull_subscribe(subject, stream=REJECTS, config=config)
        found: list[Reject] = []
        try:
            while len(found) < limit:
                try:
                    batch = await sub.fetch(min(500, limit - len(found)), timeout=1)
                except (TimeoutError, nats.errors.TimeoutError):
                    break
                found += [Reject.from_json(json.loads(m.data)) for m in batch]
                pending = batch[-1].metadata.num_pending if batch else 0
                if not pending:
                    break
        finally:
            await sub.unsubscribe()
        return found
    finally:
        await client.close()


def list_rejects(settings: Settings, source: str | None = None, limit: int = 1000) -> list[Reject]:
    """The rejected messages, oldest first (of `source` only, when given), at most `limit`."""
    return asyncio.run(_read_rejects(settings, source, limit))
