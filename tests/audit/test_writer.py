"""The group-commit writer: a request whose client hung up (its future cancelled) while its
batch was being written must not end the flush: every other request of the batch, and every
later batch, is still answered, also when the batch write fails."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from socialcredit.audit.log import Entry
from socialcredit.audit.writer import AuditWriter
from socialcredit.store.schema import audit_log


class Failing(AuditWriter):
    """The real writer, whose writes fail for entries by the actor `bad` (the seam is
    `_write`); the nth write waits until `holds[n]` is set, so that the requests that come
    meanwhile queue up into the next batch."""

    def __init__(self, engine: sa.Engine, held: int = 1) -> None:
        super().__init__(engine)
        self.holds = {n: asyncio.Event() for n in range(1, held + 1)}
        self.writes: list[list[str]] = []

    async def _write(self, entries: list[Entry]) -> None:
        self.writes.append([e.target for e in entries])
        hold = self.holds.get(len(self.writes))
        if hold is not None:
            await hold.wait()
        if any(e.actor == "bad" for e in entries):
            raise RuntimeError("the store refused the batch")
        await super()._write(entries)


def entry(target: str, actor: str = "key:test") -> Entry:
    return Entry.now(actor, "operator", "subject.read", target, "a test")


def stored(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.target).order_by(audit_log.c.seq)).scalars())


async def _hang_up_during_a_failed_batch(writer: Failing) -> dict[str, object]:
    first = asyncio.create_task(writer.record(entry("first")))
    await asyncio.sleep(0)  # the flush starts and holds the first write
    await asyncio.sleep(0)
    tasks = {
        "bad": asyncio.create_task(writer.record(entry("bad", actor="bad"))),
        "gone": asyncio.create_task(writer.record(entry("gone"))),
        "after": asyncio.create_task(writer.record(entry("after"))),
    }
    await asyncio.sleep(0)  # all three are pending, behind the first write
    tasks["gone"].cancel()  # its client hung up
    await asyncio.sleep(0)
    writer.holds[1].set()
    results: dict[str, object] = {"first": await asyncio.wait_for(first, 5)}
    for name, task in tasks.items():
        try:
            results[name] = await asyncio.wait_for(asyncio.shield(task), 5)
        except asyncio.CancelledError:
            results[name] = "cancelled"
        except RuntimeError as error:
            results[name] = str(error)
    # and the writer goes on serving
    results["later"] = await asyncio.wait_for(writer.record(entry("later")), 5)
    return results


def test_a_cancelled_request_in_a_failed_batch_leaves_the_rest_answered(
    engine: sa.Engine,
) -> None:
    writer = Failing(engine)
    try:
        results = asyncio.run(_hang_up_during_a_failed_batch(writer))
    finally:
        writer.close()
    assert results == {
        "first": None,
        "bad": "the store refused the batch",
        "gone": "cancelled",
        "after": None,
        "later": None,
    }
    # the batch failed as a whole, then each entry was written on its own
    assert writer.writes[1] == ["bad", "gone", "after"]
    assert writer.writes[2:5] == [["bad"], ["gone"], ["after"]]
    # the hung-up request's entry is logged all the same: what it asked for was seen
    assert stored(engine) == ["first", "gone", "after", "later"]


async def _hang_up_alone(writer: Failing) -> object:
    first = asyncio.create_task(writer.record(entry("first")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gone = asyncio.create_task(writer.record(entry("bad", actor="bad")))
    await asyncio.sleep(0)
    gone.cancel()  # its client hung up; its batch of one will fail
    await asyncio.sleep(0)
    writer.holds[1].set()
    await asyncio.wait_for(first, 5)
    await asyncio.sleep(0)  # the batch of one is being written
    after = asyncio.create_task(writer.record(entry("after")))
    await asyncio.sleep(0)
    writer.holds[2].set()
    with pytest.raises(asyncio.CancelledError):
        await gone
    return await asyncio.wait_for(after, 5)


def test_a_cancelled_request_alone_in_a_failed_batch_does_not_end_the_flush(
    engine: sa.Engine,
) -> None:
    writer = Failing(engine, held=2)
    try:
        assert asyncio.run(_hang_up_alone(writer)) is None
    finally:
        writer.close()
    assert writer.writes == [["first"], ["bad"], ["after"]]
    assert stored(engine) == ["first", "after"]
