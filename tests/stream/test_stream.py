"""The stream against a real NATS server: publish -> worker -> store, once; rejects with the
reasons `scs ingest` gives; redelivery with no second effect; a batch applied whole or not."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import nats
import pytest
import sqlalchemy as sa

from socialcredit.ingest.files import import_subjects_file, ingest_file
from socialcredit.settings import Settings
from socialcredit.store.schema import record_status, records
from socialcredit.store.sources import add_source
from socialcredit.stream import batch as stream_batch
from socialcredit.stream.batch import Incoming, apply_batch
from socialcredit.stream.names import CONSUMER, MSG_ID, STREAM
from socialcredit.stream.numbers import stream_numbers
from socialcredit.stream.publish import publish_file
from socialcredit.stream.rejects import list_rejects
from socialcredit.stream.setup import init_streams
from socialcredit.stream.worker import Totals, WorkerOptions, work
from tests.conftest import FIXTURES
from tests.stream.broker import Broker

VILLAGE = FIXTURES / "village"
WANG = "cn-rid:37108219800517011X"


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        add_source(conn, "court", "court", types=["court.*"])
        add_source(conn, "police", "police", types=["traffic.*"])
    assert import_subjects_file(engine, VILLAGE / "subjects.csv").accepted == 7
    return engine


@pytest.fixture
def on_broker(settings: Settings, broker: Broker) -> Settings:
    made = settings.model_copy(
        update={"nats_url": broker.url, "nats_monitor_url": broker.monitor_url}
    )
    asyncio.run(init_streams(made, ack_wait=2))
    return made


def drain(engine: sa.Engine, settings: Settings, idle: float = 1.0) -> Totals:
    """Run the worker in this process until it has had nothing to do for `idle` seconds."""
    options = WorkerOptions(wait=0.2, idle_exit=idle)
    return asyncio.run(work(engine, settings, options, asyncio.Event()))


def stored(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(records.c.source_id, records.c.record_id).order_by(records.c.id)
        )
        return [(r.source_id, r.record_id) for r in rows]


def publish_raw(settings: Settings, messages: list[tuple[str, bytes, str | None]]) -> None:
    async def main() -> None:
        client = await nats.connect(settings.nats_url)
        js = client.jetstream()
        for subject, data, msg_id in messages:
            headers = {MSG_ID: msg_id} if msg_id else None
            await js.publish(subject, data, stream=STREAM, headers=headers)
        await client.close()

    asyncio.run(main())


def test_init_verifies_the_servers_fsync_policy(on_broker: Settings, broker: Broker) -> None:
    done = asyncio.run(init_streams(on_broker))
    assert (done.records, done.rejects, done.consumer) == ("updated", "updated", "updated")
    assert done.durability.safe and done.durability.version.startswith("2.15")
    config = broker.varz()["jetstream"]["config"]  # type: ignore[index]
    assert config["sync_always"] is True  # type: ignore[index]


def test_publish_run_stores_each_record_once_and_lists_rejects(
    store: sa.Engine, on_broker: Settings
) -> None:
    first = publish_file(on_broker, VILLAGE / "court.csv", "court")
    assert (first.read, first.acked, first.duplicates) == (3, 3, 0)
    police = publish_file(on_broker, VILLAGE / "police.jsonl", "police")
    assert police.acked == 2
    # The same file again: the server drops every message as a duplicate (Nats-Msg-Id).
    again = publish_file(on_broker, VILLAGE / "court.csv", "court")
    assert (again.acked, again.duplicates) == (0, 3)
    # The bank is not registered: its records are rejected, each with the reason.
    assert publish_file(on_broker, VILLAGE / "bank.csv", "bank").acked == 6

    totals = drain(store, on_broker)
    assert (totals.messages, totals.accepted, totals.rejected) == (11, 5, 6)
    assert sorted(stored(store)) == [
        ("court", "c-1"),
        ("court", "c-2"),
        ("court", "c-3"),
        ("police", "p-1"),
        ("police", "p-2"),
    ]
    rejects = list_rejects(on_broker)
    bank = [line.split(",")[0] for line in (VILLAGE / "bank.csv").read_text().splitlines()[1:]]
    assert [(r.source, r.record_id) for r in rejects] == [("bank", b) for b in bank]
    assert all(r.reasons[0][0] == "source" for r in rejects)
    assert "unknown source 'bank'" in rejects[0].reasons[0][1]
    assert list_rejects(on_broker, source="court") == []

    numbers = stream_numbers(on_broker)
    assert (numbers.messages, numbers.pending, numbers.ack_pending) == (0, 0, 0)
    assert numbers.rejects == 6 and numbers.ack_floor == numbers.last_seq == 11

    # Published again after the duplicate window would have passed: stored once all the same.
    publish_raw(
        on_broker,
        [
            ("scs.records.court", (VILLAGE / "police.jsonl").read_bytes().splitlines()[0], None),
            (
                "scs.records.court",
                json.dumps(
                    {
                        "record_id": "c-1",
                        "subject": WANG,
                        "type": "court.judgment.issued",
                        "occurred_at": "2025-10-01",
                    }
                ).encode(),
                None,
            ),
        ],
    )
    totals = drain(store, on_broker)
    assert (totals.accepted, totals.unchanged, totals.rejected) == (0, 1, 1)
    assert len(stored(store)) == 5


def test_a_redelivered_message_has_no_second_effect(store: sa.Engine, on_broker: Settings) -> None:
    """The worker dies after the commit and before the ack, three times over: the server
    delivers the messages again each time (ack wait 2 s), and the store does not change."""
    publish_file(on_broker, VILLAGE / "court.csv", "court")

    async def crash_after_commit() -> list[int]:
        client = await nats.connect(on_broker.nats_url)
        js = client.jetstream()
        sub = await js.pull_subscribe_bind(durable=CONSUMER, stream=STREAM)
        messages = await sub.fetch(10, timeout=10)
        incoming = [Incoming(m.subject, m.data, m.metadata.sequence.stream) for m in messages]
        applied = await asyncio.to_thread(apply_batch, store, incoming)
        await client.close()  # no ack: as if killed here
        return [applied.accepted, applied.unchanged, messages[0].metadata.num_delivered]

    def snapshot() -> list[Any]:
        with store.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(records).order_by(records.c.id))] + [
                tuple(r) for r in conn.execute(sa.select(record_status))
            ]

    assert asyncio.run(crash_after_commit()) == [3, 0, 1]
    after_first = snapshot()
    for delivery in (2, 3, 4):  # redelivered 1, 2 and 3 times
        assert asyncio.run(crash_after_commit()) == [0, 3, delivery]
        assert snapshot() == after_first
    totals = drain(store, on_broker, idle=4.0)  # past the ack wait: the fourth redelivery
    assert (totals.messages, totals.accepted, totals.unchanged) == (3, 0, 3)
    assert snapshot() == after_first
    numbers = stream_numbers(on_broker)
    assert (numbers.messages, numbers.ack_pending) == (0, 0)


BAD = [
    # (subject, message, field, reason as `scs ingest` gives it for the same line)
    ("scs.records.police", b"not json", "message", "not valid JSON (Expecting value at column 1)"),
    ("scs.records.police", b"[1, 2]", "message", "each line must be a JSON object"),
    ("scs.records.police", b"\xff\xfe", "message", "not UTF-8 text (invalid start byte)"),
    (
        "scs.records.police",
        json.dumps(
            {
                "record_id": "p-9",
                "subject": WANG,
                "type": "traffic.x",
                "occurred_at": "2026-01-01",
                "colour": "red",
            }
        ).encode(),
        "message",
        "unknown field(s) colour",
    ),
    (
        "scs.records.police",
        json.dumps(
            {
                "record_id": "p-10",
                "subject": "cn-rid:37108219800517011Y",
                "type": "traffic.x",
                "occurred_at": "2026-01-01",
            }
        ).encode(),
        "subject",
        "check character",
    ),
    (
        "scs.records.police",
        json.dumps(
            {
                "record_id": "p-11",
                "subject": WANG,
                "type": "court.judgment.issued",
                "occurred_at": "2026-01-01",
            }
        ).encode(),
        "type",
        "source 'police' may not submit 'court.judgment.issued'",
    ),
    (
        "scs.records.police",
        json.dumps(
            {"record_id": "p-12", "subject": WANG, "type": "traffic.x", "occurred_at": "2999-01-01"}
        ).encode(),
        "occurred_at",
        "is in the future",
    ),
    (
        "scs.records.police",
        json.dumps(
            {
                "record_id": "p-13",
                "subject": "ext:nobody",
                "type": "traffic.x",
                "occurred_at": "2026-01-01",
            }
        ).encode(),
        "subject",
        "ext:nobody is not registered",
    ),
    (
        "scs.records.police",
        json.dumps(
            {
                "record_id": "p-14",
                "subject": WANG,
                "type": "traffic.x",
                "occurred_at": "2026-01-01",
                "value": "twelve",
            }
        ).encode(),
        "value",
        "'twelve' is not a number",
    ),
    (
        "scs.records.police",
        json.dumps(
            {
                "record_id": "p-15",
                "subject": WANG,
                "type": "traffic.x",
                "occurred_at": "2026-01-01",
                "supersedes": "p-404",
            }
        ).encode(),
        "supersedes",
        "no record 'p-404' from this source to supersede",
    ),
    (
        "scs.records.tax",
        json.dumps(
            {
                "record_id": "t-1",
                "subject": WANG,
                "type": "tax.arrears",
                "occurred_at": "2026-01-01",
            }
        ).encode(),
        "source",
        "unknown source 'tax'",
    ),
]


def unstamped(reason: str) -> str:
    """The reason without the instant it was received at (the two runs differ in it)."""
    return re.sub(r"\(received at [^)]*\)", "(received at …)", reason)


def test_bad_input_ends_in_the_rejects_with_the_ingest_reasons(
    store: sa.Engine, on_broker: Settings, tmp_path: Path
) -> None:
    good = json.dumps(
        {
            "record_id": "p-1",
            "subject": WANG,
            "type": "traffic.drunk_driving",
            "occurred_at": "2026-04-01T22:10:00+08:00",
        }
    ).encode()
    publish_raw(
        on_broker,
        [(s, m, None) for s, m, _, _ in BAD[:5]]
        + [("scs.records.police", good, "police/p-1")]
        + [(s, m, None) for s, m, _, _ in BAD[5:]],
    )
    totals = drain(store, on_broker)
    assert (totals.accepted, totals.rejected) == (1, len(BAD))
    assert stored(store) == [("police", "p-1")]
    rejects = list_rejects(on_broker)
    assert len(rejects) == len(BAD)
    for reject, (subject, message, name, reason) in zip(rejects, BAD, strict=True):
        assert reject.subject == subject
        assert reject.message == message.decode("utf-8", errors="replace")
        assert any(f == name and reason in r for f, r in reject.reasons), reject.reasons
    # The same lines through `scs ingest` get the same reasons, word for word.
    police = [(s, m) for s, m, _, _ in BAD if s == "scs.records.police"]
    path = tmp_path / "police.jsonl"
    path.write_bytes(b"\n".join(m for _, m in police) + b"\n")
    report = ingest_file(store, path, "police")
    by_line: dict[int, set[str]] = {}
    for rejection in report.rejected:
        by_line.setdefault(rejection.line, set()).add(unstamped(rejection.reason))
    for number, reject in enumerate(rejects[: len(police)], start=1):
        assert {unstamped(r) for _, r in reject.reasons} == by_line[number]
    assert stored(store) == [("police", "p-1")]


def test_a_batch_is_applied_whole_or_not_at_all(
    store: sa.Engine, on_broker: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails on the batch's second source: nothing of the first source stays, and
    nothing is acked; the next run applies the batch whole."""
    publish_file(on_broker, VILLAGE / "court.csv", "court")
    publish_file(on_broker, VILLAGE / "police.jsonl", "police")
    real = stream_batch.accept_records
    calls: list[str] = []

    def failing(conn: sa.Connection, source: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(source.id)
        if source.id == "police":
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))
        return real(conn, source, *args, **kwargs)

    monkeypatch.setattr(stream_batch, "accept_records", failing)
    with pytest.raises(sa.exc.OperationalError):
        drain(store, on_broker)
    assert calls == ["court", "police"]
    assert stored(store) == []
    monkeypatch.setattr(stream_batch, "accept_records", real)
    totals = drain(store, on_broker, idle=4.0)  # the batch comes back after the ack wait
    assert (totals.messages, totals.accepted) == (5, 5)
    assert len(stored(store)) == 5
