"""A hash chain in the operational store.

Entry n holds `prev_hash`, the hash of entry n-1 (sixty-four zeros for the first), and `hash`,
the SHA-256 of its own fields and `prev_hash` in a canonical JSON form. Editing a row breaks its
hash; deleting one leaves a gap in `seq` and breaks the next link; reordering breaks the links.
Cutting entries off the end leaves a valid shorter chain, which is why `scs audit verify`
prints the head: publish or send it elsewhere, and `--head` checks a later chain still holds it.

Appends take the audit lock, read the head, and write, in one transaction: any number of
processes (servers, the CLI) may append to the same chain.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from socialcredit.store.bulk import insert_rows
from socialcredit.store.db import AUDIT_LOCK, writing
from socialcredit.store.schema import audit_log
from socialcredit.timeutil import format_instant, from_us, now_us, to_us

GENESIS = "0" * 64
FIELDS = ("actor", "role", "action", "target", "purpose", "outcome")
ROW = ("seq", "at", *FIELDS, "prev_hash", "hash")


class Entry(NamedTuple):  # a tuple: cheap to make on every gate check
    at_us: int  # when, in microseconds since the epoch (UTC)
    actor: str  # "key:<prefix>", "anonymous", "cli:<user>"
    role: str
    action: str  # e.g. "subject.report", "measure.check", "evaluation.run"
    target: str  # what was read or changed: an identifier, a policy, a list
    purpose: str  # why, as the caller declared it (or the surface's default)
    outcome: str = "allowed"  # or "refused"

    @classmethod
    def now(
        cls,
        actor: str,
        role: str,
        action: str,
        target: str,
        purpose: str,
        outcome: str = "allowed",
    ) -> Entry:
        """An entry stamped now. Text that callers control (target, purpose) is cleaned of
        control characters and lone surrogates (PostgreSQL refuses NUL) and cut to the
        columns' lengths, so that no caller's input can make an append fail."""
        return cls(
            now_us(),
            _clean(actor, 200),
            _clean(role, 32),
            _clean(action, 64),
            _clean(target, 300),
            _clean(purpose, 300),
            outcome,
        )

    @property
    def at(self) -> datetime:
        return from_us(self.at_us)


_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _clean(text: str, limit: int) -> str:
    return _UNSAFE.sub("\ufffd", text[:limit]) if not text.isprintable() else text[:limit]


def entry_hash(seq: int, entry: Entry, prev_hash: str) -> str:
    """SHA-256 (hex) of `[seq, at_us, actor, role, action, target, purpose, outcome,
    prev_hash]` as compact JSON, UTF-8, as orjson writes it."""
    body = [
        seq,
        entry.at_us,
        entry.actor,
        entry.role,
        entry.action,
        entry.target,
        entry.purpose,
        entry.outcome,
        prev_hash,
    ]
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


def _chain(
    seq: int, prev: str, entries: Sequence[Entry], instant: Callable[[int], Any]
) -> list[tuple[Any, ...]]:
    """The rows that extend a chain whose head is (seq, prev), in `ROW` order."""
    rows = []
    for e in entries:  # the hot path of every gate check: one pass, plain tuples
        seq += 1
        current = entry_hash(seq, e, prev)
        at = instant(e.at_us)
        rows.append(
            (seq, at, e.actor, e.role, e.action, e.target, e.purpose, e.outcome, prev, current)
        )
        prev = current
    return rows


def append(conn: sa.Connection, entries: Sequence[Entry]) -> int:
    """Append to the chain in the caller's transaction, which must hold the audit lock.
    Returns the seq of the last entry."""
    head = conn.execute(
        sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS)
    instant = (lambda us: us) if conn.dialect.name == "sqlite" else from_us
    insert_rows(conn, audit_log, ROW, _chain(seq, prev, entries, instant))
    return seq + len(entries)


def append_entries(engine: sa.Engine, entries: Sequence[Entry]) -> int:
    """Append in a transaction of its own, under the audit lock."""
    with writing(engine, AUDIT_LOCK) as conn:
        return append(conn, entries)


_HEAD = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
_INSERT = (  # column names are this module's constants, values are bound
    f"INSERT INTO audit_log ({', '.join(ROW)}) VALUES ({', '.join('?' for _ in ROW)})"  # noqa: S608
)


def impatient(engine: sa.Engine) -> sqlite3.Connection:
    """A SQLite connection of its own that never waits for the write lock (see
    `try_append_now`); it manages its transactions itself."""
    assert engine.dialect.name == "sqlite"
    database = engine.url.database
    assert database
    conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False, timeout=0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def try_append_now(conn: sqlite3.Connection, entries: Sequence[Entry]) -> bool:
    """Append on an `impatient` connection: False, and nothing written, if another writer
    holds the lock. The service's event loop calls this for each batch of gate checks: a local
    commit takes well under a millisecond, cheaper than handing the batch to a thread (which
    halved the throughput); when the store is busy, the caller falls back to
    `append_entries` in a thread, which waits. The same chain, the same rows, by the driver."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return False
        raise
    try:
        head = conn.execute(_HEAD).fetchone()
        seq, prev = (int(head[0]), str(head[1])) if head is not None else (0, GENESIS)
        conn.executemany(_INSERT, _chain(seq, prev, entries, lambda us: us))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


@dataclass(frozen=True)
class Verification:
    entries: int
    head: str  # the hash of the last entry that verified
    broken_at: int | None = None  # seq of the first entry that fails
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(
    conn: sa.Connection, expected_head: str | None = None, batch: int = 10_000
) -> Verification:
    """Recompute the chain; name the first entry that does not verify, and why."""
    query = sa.select(audit_log).order_by(audit_log.c.seq)
    # Closed on every return: a broken chain stops early, and an open server-side cursor
    # (PostgreSQL) would outlive the call.
    with conn.execution_options(yield_per=batch).execute(query) as result:
        return _verify_rows(result, expected_head)


def _verify_rows(result: sa.CursorResult[Any], expected_head: str | None) -> Verification:
    seq, prev, count = 0, GENESIS, 0
    seen_head = expected_head is None
    for row in result:
        count += 1
        expected_seq = seq + 1
        if row.seq != expected_seq:
            why = f"expected entry {expected_seq} next, found {row.seq}: entries are missing"
            return Verification(count - 1, prev, expected_seq, why)
        if row.prev_hash != prev:
            why = "its prev_hash does not match the hash of the entry before it (reordered?)"
            return Verification(count - 1, prev, row.seq, why)
        entry = Entry(to_us(row.at), *(getattr(row, name) for name in FIELDS))
        if entry_hash(row.seq, entry, prev) != row.hash:
            return Verification(count - 1, prev, row.seq, "its content does not match its hash")
        seq, prev = row.seq, row.hash
        seen_head = seen_head or prev == expected_head
    if not seen_head:
        why = f"the chain no longer contains the head {expected_head} (entries cut off the end?)"
        return Verification(count, prev, seq + 1, why)
    return Verification(count, prev)


def read_entries(
    conn: sa.Connection,
    after: int = 0,
    limit: int = 100,
    actor: str | None = None,
    target: str | None = None,
) -> list[dict[str, Any]]:
    """A page of the log, oldest first, for auditors."""
    query = sa.select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if target:
        query = query.where(audit_log.c.target == target)
    return [
        {
            "seq": r.seq,
            "at": format_instant(r.at),
            **{name: getattr(r, name) for name in FIELDS},
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r in conn.execute(query.limit(limit))
    ]
