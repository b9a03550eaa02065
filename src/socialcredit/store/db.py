"""Opening the store, creating it, and checking that its schema is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from socialcredit.errors import StoreNotReady
from socialcredit.settings import Settings
from socialcredit.store.schema import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(settings: Settings) -> sa.Engine:
    """An Engine for the configured store. SQLite gets WAL, foreign keys and a busy timeout."""
    url = sa.make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        database = url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
        raise StoreNotReady(f"no store at {engine.url!r}; run `scs init` first")
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
