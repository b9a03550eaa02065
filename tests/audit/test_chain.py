"""The audit chain: concurrent appenders keep one chain; every kind of tampering is detected by
`verify` and by `scs audit verify`, which names the first broken entry (exit code 6)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from socialcredit.audit.log import GENESIS, Entry, append_entries, verify
from socialcredit.cli import app
from socialcredit.settings import Settings
from socialcredit.store.schema import audit_log

FIELDS = ("at", "actor", "role", "action", "target", "purpose", "outcome", "prev_hash", "hash")


def entry(n: int, who: str = "key:test") -> Entry:
    return Entry.now(who, "operator", "subject.read", f"ext:subject-{n}", "a test")


def rows(engine: sa.Engine) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)))


def scs_verify(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["audit", "verify", *args],
        env={
            "SCS_HOME": str(settings.home),
            "SCS_DATABASE_URL": settings.database_url,
            "COLUMNS": "200",
        },
    )
    return result.exit_code, result.output


def test_an_appended_chain_verifies(settings: Settings, engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert verify(conn).entries == 0
    assert append_entries(engine, [entry(1), entry(2)]) == 2
    assert append_entries(engine, [entry(3)]) == 3
    stored = rows(engine)
    assert [r.seq for r in stored] == [1, 2, 3]
    assert stored[0].prev_hash == GENESIS
    assert [r.prev_hash for r in stored[1:]] == [r.hash for r in stored[:-1]]
    with engine.connect() as conn:
        result = verify(conn)
    assert (result.ok, result.entries, result.head) == (True, 3, stored[-1].hash)
    code, output = scs_verify(settings)
    assert code == 0, output
    assert "3 entries" in output
    assert stored[-1].hash in output.replace("\n", "")


def _append_many(url: str, who: str, count: int) -> int:
    """In another process: append `count` entries one transaction at a time."""
    from socialcredit.store.db import create_engine

    engine = create_engine(Settings(database_url=url))
    try:
        for n in range(count):
            append_entries(engine, [entry(n, who)])
    finally:
        engine.dispose()
    return count


def test_concurrent_appenders_keep_one_chain(settings: Settings, engine: sa.Engine) -> None:
    threads = [
        threading.Thread(target=lambda w=f"thread-{t}": _append_many(settings.url, w, 15))
        for t in range(3)
    ]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        done = [pool.submit(_append_many, settings.url, f"process-{p}", 15) for p in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(f.result() for f in done) == 30
    stored = rows(engine)
    assert [r.seq for r in stored] == list(range(1, 76))
    assert {r.actor for r in stored} == {f"thread-{t}" for t in range(3)} | {
        f"process-{p}" for p in range(2)
    }
    with engine.connect() as conn:
        assert verify(conn).ok


def _edit(conn: sa.Connection) -> None:
    conn.execute(sa.update(audit_log).where(audit_log.c.seq == 3).values(target="ext:someone"))


def _edit_outcome(conn: sa.Connection) -> None:
    conn.execute(sa.update(audit_log).where(audit_log.c.seq == 3).values(outcome="refused"))


def _delete(conn: sa.Connection) -> None:
    conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 3))


def _swap(conn: sa.Connection) -> None:
    """Swap the whole contents (hashes included) of entries 3 and 4: a reordering."""
    three, four = (
        conn.execute(sa.select(audit_log).where(audit_log.c.seq == s)).one()._asdict()
        for s in (3, 4)
    )
    for seq, values in ((3, four), (4, three)):
        conn.execute(
            sa.update(audit_log)
            .where(audit_log.c.seq == seq)
            .values({k: values[k] for k in FIELDS})
        )


def _renumber(conn: sa.Connection) -> None:
    conn.execute(sa.update(audit_log).where(audit_log.c.seq == 3).values(seq=99))


def _renumber_and_rehash(conn: sa.Connection) -> None:
    """Delete entry 3 and move 4 and 5 down, keeping their stored hashes: the links hold, the
    hashes (which cover seq) do not."""
    conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 3))
    for seq in (4, 5):
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == seq).values(seq=seq - 1))


TAMPERING: list[tuple[str, Callable[[sa.Connection], None], str]] = [
    ("edit a row's content", _edit, "content does not match"),
    ("turn a refusal into an allowance", _edit_outcome, "content does not match"),
    ("delete a middle row", _delete, "missing"),
    ("swap two rows", _swap, "prev_hash"),
    ("change a seq", _renumber, "missing"),
    ("close the gap after a deletion", _renumber_and_rehash, "prev_hash"),
]


@pytest.mark.parametrize(("tamper", "reason"), [pytest.param(t, r, id=i) for i, t, r in TAMPERING])
def test_tampering_is_detected(
    settings: Settings,
    engine: sa.Engine,
    tamper: Callable[[sa.Connection], None],
    reason: str,
) -> None:
    append_entries(engine, [entry(n) for n in range(1, 6)])
    before = rows(engine)
    with engine.begin() as conn:
        tamper(conn)
    with engine.connect() as conn:
        result = verify(conn)
    assert not result.ok
    assert result.broken_at == 3
    assert result.entries == 2
    assert result.head == before[1].hash  # the last entry that still verifies
    assert reason in (result.reason or "")
    code, output = scs_verify(settings)
    assert code == 6, output
    assert "broken at entry 3" in output
    assert reason in output.replace("\n", " ")


def test_head_detects_entries_cut_off_the_end(settings: Settings, engine: sa.Engine) -> None:
    append_entries(engine, [entry(n) for n in range(1, 6)])
    head = rows(engine)[-1].hash
    with engine.connect() as conn:
        assert verify(conn, head).ok
    append_entries(engine, [entry(6)])  # a later chain still holds the published head
    code, output = scs_verify(settings, "--head", head)
    assert code == 0, output
    with engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq >= 5))
    with engine.connect() as conn:
        assert verify(conn).ok  # a shorter chain is still a valid chain...
        cut = verify(conn, head)
    assert not cut.ok  # ...but no longer holds the head
    assert cut.broken_at == 5
    assert "cut off the end" in (cut.reason or "")
    code, output = scs_verify(settings, "--head", head)
    assert code == 6, output
    assert "broken at entry 5" in output
    code, output = scs_verify(settings, "--head", "not-a-hash")
    assert code != 0
