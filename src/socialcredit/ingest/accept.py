"""`accept_records()`: validate a batch of records, resolve subjects, dedupe, append.

Each row is accepted or rejected on its own, with the line, the field and the reason; the
accepted rows are appended in one transaction (the caller's), so a batch is never half-applied.
Re-sending a (source, record_id) already stored is a no-op, which makes ingestion idempotent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from socialcredit.errors import Conflict, IdentifierError
from socialcredit.identifiers import parse
from socialcredit.ingest import fields
from socialcredit.ingest.fields import MAX_VALUE
from socialcredit.ingest.readers import BadLine, Row
from socialcredit.ingest.report import Report
from socialcredit.policy.patterns import check_type
from socialcredit.store import records as record_log
from socialcredit.store.registry import resolve
from socialcredit.store.sources import Source
from socialcredit.timeutil import as_utc, to_us

REQUIRED = ("record_id", "subject", "type", "occurred_at")
OPTIONAL = ("value", "supersedes", "attrs")
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


class RecordLog(Protocol):
    """Where accepted records go: the SQL store's log (default) or the record lake's."""

    def lookup(
        self, conn: sa.Connection, source_id: str, record_ids: Iterable[str]
    ) -> dict[str, record_log.StoredRecord]: ...

    def append(self, conn: sa.Connection, columns: dict[str, Sequence[Any]]) -> int: ...

    def change_status(
        self,
        conn: sa.Connection,
        changes: Sequence[tuple[str, str, str, str]],
        at: datetime,
        actor: str,
    ) -> None: ...


class StoreLog:
    """The SQL store's record log (`store.records`)."""

    def lookup(
        self, conn: sa.Connection, source_id: str, record_ids: Iterable[str]
    ) -> dict[str, record_log.StoredRecord]:
        return record_log.lookup(conn, source_id, record_ids)

    def append(self, conn: sa.Connection, columns: dict[str, Sequence[Any]]) -> int:
        return record_log.append(conn, {k: v for k, v in columns.items() if k != "subject"})

    def change_status(
        self,
        conn: sa.Connection,
        changes: Sequence[tuple[str, str, str, str]],
        at: datetime,
        actor: str,
    ) -> None:
        record_log.change_status(conn, changes, at=at, actor=actor)


@dataclass(slots=True)
class _Candidate:
    line: int
    record_id: str
    subject: str
    type: str
    occurred_at: datetime
    value: float | None
    attrs: dict[str, Any] | None
    supersedes: str | None


def accept_records(
    conn: sa.Connection,
    source: Source,
    rows: Iterable[tuple[int, Row | BadLine]],
    received_at: datetime,
    log: RecordLog | None = None,
) -> Report:
    started = time.perf_counter()
    log = log or StoreLog()
    report = Report("records")
    candidates = _parse_rows(source, rows, received_at, report)
    subjects = resolve(conn, {c.subject for c in candidates})
    stored = log.lookup(
        conn,
        source.id,
        {c.record_id for c in candidates} | {c.supersedes for c in candidates if c.supersedes},
    )
    accepted: list[_Candidate] = []
    in_batch: dict[str, _Candidate] = {}
    superseded_here: dict[str, str] = {}
    for c in candidates:
        if c.record_id in in_batch:
            first = in_batch[c.record_id].line
            report.reject(
                c.line, "record_id", f"{c.record_id!r} repeats line {first} of this batch"
            )
            continue
        if c.record_id in stored:
            report.unchanged += 1
            in_batch[c.record_id] = c
            continue
        subject_id = subjects.get(c.subject)
        if subject_id is None:
            report.reject(
                c.line,
                "subject",
                f"{c.subject} is not registered (register it with `scs subjects import`)",
            )
            continue
        if c.supersedes is not None:
            reason = _supersede_problem(c, subject_id, stored, in_batch, subjects, superseded_here)
            if reason:
                report.reject(c.line, "supersedes", reason)
                continue
            superseded_here[c.supersedes] = c.record_id
        in_batch[c.record_id] = c
        accepted.append(c)
    received_us = to_us(received_at)
    written = log.append(
        conn,
        {
            "source_id": [source.id] * len(accepted),
            "record_id": [c.record_id for c in accepted],
            "subject": [c.subject for c in accepted],
            "subject_id": [subjects[c.subject] for c in accepted],
            "type": [c.type for c in accepted],
            "occurred_at": [to_us(c.occurred_at) for c in accepted],
            "received_at": [received_us] * len(accepted),
            "value": [c.value for c in accepted],
            "attrs": [c.attrs for c in accepted],
            "supersedes": [c.supersedes for c in accepted],
        },
    )
    if written != len(accepted):
        # Only a writer that bypassed the log lock could have stored some of these meanwhile.
        raise Conflict(
            f"{len(accepted) - written} records of this batch were stored by another "
            "writer meanwhile; nothing was applied, send the batch again"
        )
    log.change_status(
        conn,
        [
            (source.id, old, "superseded", f"superseded by {new}")
            for old, new in superseded_here.items()
        ],
        at=received_at,
        actor=f"source:{source.id}",
    )
    report.accepted = len(accepted)
    report.seconds = time.perf_counter() - started
    return report


def _supersede_problem(
    c: _Candidate,
    subject_id: int,
    stored: dict[str, record_log.StoredRecord],
    in_batch: dict[str, _Candidate],
    subjects: dict[str, int],
    superseded_here: dict[str, str],
) -> str | None:
    target = c.supersedes
    assert target is not None
    if target == c.record_id:
        return "a record cannot supersede itself"
    if target in superseded_here:
        return f"{target!r} is already superseded by {superseded_here[target]!r} in this batch"
    if target in stored:
        old = stored[target]
        if old.status == "superseded":
            return f"{target!r} is already superseded; supersede its replacement instead"
        if old.status == "retracted":
            return f"{target!r} was retracted; send a new record instead"
        if old.subject_id != subject_id:
            return f"{target!r} is about another subject; retract it and send a new record"
        return None
    if target in in_batch:
        if subjects.get(in_batch[target].subject) != subject_id:
            return f"{target!r} is about another subject; retract it and send a new record"
        return None
    return f"no record {target!r} from this source to supersede"


def _parse_rows(
    source: Source,
    rows: Iterable[tuple[int, Row | BadLine]],
    received_at: datetime,
    report: Report,
) -> list[_Candidate]:
    out: list[_Candidate] = []
    identifiers: dict[Any, str | IdentifierError] = {}
    types: dict[Any, str | None] = {}
    latest = received_at + CLOCK_SKEW
    for line, row in report.rows(rows):
        fast = _fast(line, row, identifiers, types, latest)
        if fast is not None:
            out.append(fast)
            continue
        problems, candidate = _slow(line, row, source, identifiers, types, received_at)
        if candidate is None:
            report.reject_all(line, problems)
        else:
            out.append(candidate)
    return out


def _fast(
    line: int,
    row: Row,
    identifiers: dict[Any, str | IdentifierError],
    types: dict[Any, str | None],
    latest: datetime,
) -> _Candidate | None:
    """The common case, a plainly valid row, without building error messages; None sends the
    row to the careful path."""
    record_id, subject, record_type = row.get("record_id"), row.get("subject"), row.get("type")
    occurred, value = row.get("occurred_at"), row.get("value")
    if (
        type(record_id) is not str
        or not 0 < len(record_id) <= 200
        or record_id != record_id.strip()
        or not record_id.isprintable()
        or type(subject) is not str
        or type(identifiers.get(subject)) is not str
        or type(record_type) is not str
        or record_type not in types
        or types[record_type] is not None
        or row.get("attrs") is not None
        or row.get("supersedes") is not None
    ):
        return None
    if type(occurred) is str:
        try:
            occurred = datetime.fromisoformat(occurred)
        except ValueError:
            return None
    if type(occurred) is not datetime:
        return None
    try:
        if occurred.tzinfo is not UTC:
            occurred = as_utc(occurred)
    except OverflowError:
        return None
    if not EARLIEST <= occurred <= latest:
        return None
    if value is not None:
        if type(value) is str:
            value = value.strip() or None
            if value is not None:
                try:
                    value = float(value)
                except ValueError:
                    return None
        elif type(value) is int and abs(value) <= MAX_VALUE:
            value = float(value)
        if value is not None and (
            type(value) is not float or not math.isfinite(value) or abs(value) > MAX_VALUE
        ):
            return None
    canonical = identifiers[subject]
    assert isinstance(canonical, str)
    return _Candidate(
        line,
        record_id,
        canonical,
        record_type,
        occurred,
        value,
        None,
        None,
    )


def _slow(
    line: int,
    row: Row,
    source: Source,
    identifiers: dict[Any, str | IdentifierError],
    types: dict[Any, str | None],
    received_at: datetime,
) -> tuple[list[tuple[str, str]], _Candidate | None]:
    """Every check, with the field and reason of each failure."""
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name, parser in _PARSERS:
        try:
            values[name] = parser(row.get(name))
        except ValueError as error:
            problems.append((name, str(error)))
    raw_subject = row.get("subject")
    if "subject" in values:
        canonical = identifiers.get(raw_subject)
        if canonical is None:
            try:
                canonical = str(parse(values["subject"]))
            except IdentifierError as error:
                canonical = error
            identifiers[raw_subject] = canonical
        if isinstance(canonical, IdentifierError):
            problems.append(("subject", f"{raw_subject!r}: {canonical.part}: {canonical.reason}"))
        else:
            values["subject"] = canonical
    if "type" in values:
        record_type = values["type"]
        if record_type not in types:
            reason = check_type(record_type)
            if reason is None and not source.may_submit(record_type):
                allowed = ", ".join(source.types or ())
                reason = f"source {source.id!r} may not submit {record_type!r} (allowed: {allowed})"
            types[record_type] = reason
        if types[record_type]:
            problems.append(("type", str(types[record_type])))
    occurred = values.get("occurred_at")
    if occurred is not None and occurred > received_at + CLOCK_SKEW:
        problems.append(
            (
                "occurred_at",
                f"{occurred.isoformat()} is in the future (received at {received_at.isoformat()})",
            )
        )
    elif occurred is not None and occurred < EARLIEST:
        problems.append(("occurred_at", f"{occurred.isoformat()} is before 1900"))
    if problems:
        return problems, None
    return [], _Candidate(
        line,
        values["record_id"],
        values["subject"],
        values["type"],
        values["occurred_at"],
        values["value"],
        values["attrs"],
        values["supersedes"],
    )


_PARSERS = (
    ("record_id", lambda v: fields.text(v, 200)),
    ("subject", lambda v: fields.text(v, 220)),
    ("type", lambda v: fields.text(v, 120)),
    ("occurred_at", fields.instant),
    ("value", fields.number),
    ("attrs", fields.json_object),
    ("supersedes", lambda v: fields.text(v, 200, required=False)),
)
