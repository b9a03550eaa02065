"""Opening the store, creating it, and checking that its schema is current."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from socialcredit.errors import InvalidInput, StoreNotReady
from socialcredit.settings import Settings
from socialcredit.store.schema import metadata
from socialcredit.timeutil import now

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(settings: Settings) -> sa.Engine:
    """An Engine for the configured store. SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        url = sa.make_url(settings.url)
    except sa.exc.ArgumentError:
        raise InvalidInput(
            "SCS_DATABASE_URL",
            f"{settings.url!r} is not a database URL (e.g. postgresql+psycopg://user@host/db)",
        ) from None
    if url.get_backend_name() == "sqlite":
        database = url.database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise InvalidInput(
                    "SCS_HOME", f"cannot create {Path(database).parent} ({error.strerror})"
                ) from None
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ImportError) as error:
        raise InvalidInput("SCS_DATABASE_URL", f"cannot use {url!r}: {error}") from None


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN (see _sqlite_begin), so that a write
    # transaction can be BEGIN IMMEDIATE: it takes the write lock before anything is stamped.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("scs_lock_log") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


# PostgreSQL advisory locks: the log lock orders writes stamped with "received now" against
# evaluations; the audit lock orders appends to the audit chain (and nothing else, so that
# gate checks do not wait for an evaluation reading the log).
_LOG_LOCK = 0x5C5_1060
AUDIT_LOCK = 0x5C5_A0D1
# Storing a current evaluation with its notices: two runs at once (the service's sweep and an
# operator's `scs evaluate`) must not both compare with the same previous evaluation.
STORE_LOCK = 0x5C5_5709


@contextmanager
def writing(engine: sa.Engine, lock: int = _LOG_LOCK) -> Iterator[sa.Connection]:
    """A write transaction holding the log lock (or another advisory lock on PostgreSQL;
    SQLite has one writer at a time anyway).

    Stamps taken inside it (received_at, registered_at, recorded_at, changed_at) are ordered
    with every evaluation's known_at (see `snapshot`): no write can commit a stamp at or before an
    evaluation's known_at after that evaluation has read the store.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(scs_lock_log=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
            yield conn


@contextmanager
def snapshot(engine: sa.Engine) -> Iterator[tuple[sa.Connection, datetime]]:
    """A consistent read of the store, and the instant it is complete up to.

    Every write stamped at or before the instant is visible in the snapshot, and every later
    write is stamped after it, so `known_at=instant` reproduces exactly what was read.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Wait for writers holding the lock, outside any transaction, then take the instant,
            # then the REPEATABLE READ snapshot, then let writers go: their stamps come later.
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOG_LOCK})
            conn.commit()
            try:
                instant = now()
                conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    conn.execute(sa.text("SELECT 1"))  # the snapshot is taken here
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOG_LOCK})
                    yield conn, instant
            finally:
                if conn.in_transaction():
                    conn.rollback()
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
                conn.commit()
            return
        conn = conn.execution_options(scs_lock_log=True)
        with conn.begin():  # SQLite: BEGIN IMMEDIATE waits for writers; reads under the lock
            yield conn, now()


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def init_store(engine: sa.Engine) -> str:
    """Create or upgrade the schema to the newest migration; returns the revision."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    return head_revision()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_ready(engine: sa.Engine) -> None:
    """Raise StoreNotReady unless the schema is at the newest migration."""
    try:
        revision = current_revision(engine)
    except sa.exc.OperationalError as error:
        raise StoreNotReady(f"cannot open the store at {engine.url!r}: {error.orig}") from None
    if revision is None:
        raise StoreNotReady(
            f"no store at {engine.url!r} (SCS_DATABASE_URL, or SCS_HOME for SQLite); "
            "run `scs init` first"
        )
    if revision != head_revision():
        raise StoreNotReady(
            f"the store is at schema revision {revision}, this version needs {head_revision()}; "
            "run `scs init` to upgrade it"
        )


def reset_store(engine: sa.Engine) -> None:
    """Drop every table of the store (used by `scs demo --reset`)."""
    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
