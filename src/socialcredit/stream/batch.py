"""One micro-batch of messages through the same `accept_records` as `scs ingest`.

All of a batch's records are appended in one write transaction (`store.db.writing`), so a batch
is applied whole or not at all. Each message is accepted, unchanged (its record_id is stored
already: a redelivered or re-sent message has no second effect) or rejected with the reasons
`scs ingest` gives. No NATS here: the worker hands in what it fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from socialcredit.ingest.accept import accept_records
from socialcredit.ingest.readers import BadLine, Row
from socialcredit.store.db import writing
from socialcredit.store.sources import find_source, list_sources
from socialcredit.stream.messages import decode, record_id_of
from socialcredit.stream.names import RECORDS_PREFIX, source_of
from socialcredit.timeutil import now


@dataclass(frozen=True)
class Incoming:
    subject: str
    data: bytes
    seq: int  # the message's sequence in SCS_RECORDS


@dataclass(frozen=True)
class Rejected:
    message: Incoming
    source: str
    record_id: str | None
    reasons: tuple[tuple[str, str], ...]  # (field, reason)
    received_at: datetime


@dataclass
class Applied:
    messages: int = 0
    accepted: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    received_at: datetime | None = None


def apply_batch(engine: sa.Engine, messages: Sequence[Incoming]) -> Applied:
    """Accept a batch in one transaction; returns what became of each message."""
    result = Applied(messages=len(messages))
    with writing(engine) as conn:
        received_at = now()  # inside the log lock, as every ingest stamps it
        result.received_at = received_at
        by_source: dict[str, list[tuple[int, Row | BadLine]]] = {}
        seen: set[tuple[str, str]] = set()
        for number, message in enumerate(messages, start=1):
            source = source_of(message.subject)
            row = decode(message.data)
            if not message.subject.startswith(RECORDS_PREFIX) or not source:
                reason = f"{message.subject!r} is not scs.records.<source>"
                result.rejected.append(
                    Rejected(message, source, None, (("subject", reason),), received_at)
                )
                continue
            record_id = None if isinstance(row, BadLine) else record_id_of(row)
            if record_id is not None:
                if (source, record_id) in seen:  # sent twice: the second is a re-send
                    result.unchanged += 1
                    continue
                seen.add((source, record_id))
            by_source.setdefault(source, []).append((number, row))
        for source_id, rows in by_source.items():
            _accept(conn, source_id, rows, messages, received_at, result)
    return result


def _accept(
    conn: sa.Connection,
    source_id: str,
    rows: list[tuple[int, Row | BadLine]],
    messages: Sequence[Incoming],
    received_at: datetime,
    result: Applied,
) -> None:
    source = find_source(conn, source_id)
    if source is None:
        known = ", ".join(s.id for s in list_sources(conn)) or "none"
        reason = (
            f"unknown source {source_id!r} (registered: {known}); add it with `scs sources add`"
        )
        for number, row in rows:
            record_id = None if isinstance(row, BadLine) else record_id_of(row)
            rejected = Rejected(
                messages[number - 1], source_id, record_id, (("source", reason),), received_at
            )
            result.rejected.append(rejected)
        return
    report = accept_records(conn, source, rows, received_at)
    result.accepted += report.accepted
    result.unchanged += report.unchanged
    reasons: dict[int, list[tuple[str, str]]] = {}
    for rejection in report.rejected:
        # A message that is not a JSON object is one "line" to the reader: say "message".
        name = "message" if rejection.field == "line" else rejection.field
        reasons.setdefault(rejection.line, []).append((name, rejection.reason))
    rows_by_number = dict(rows)
    for number, found in sorted(reasons.items()):
        row = rows_by_number[number]
        record_id = None if isinstance(row, BadLine) else record_id_of(row)
        result.rejected.append(
            Rejected(messages[number - 1], source_id, record_id, tuple(found), received_at)
        )
