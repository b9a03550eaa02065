"""Shared fixtures: a fresh store on SQLite and on PostgreSQL, and tiny named populations.

PostgreSQL tests need the server at SCS_TEST_POSTGRES_URL (default: the local one, trust auth).
Where it is absent they are skipped with the reason; CI sets SCS_REQUIRE_POSTGRES=1, which turns
that skip into a failure so that they cannot be skipped silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

# The CLI's rich consoles fix their width at import when COLUMNS is set then (an xdist worker
# inherits the terminal's), and the CLI tests give each command its own COLUMNS: let them.
os.environ.pop("COLUMNS", None)

from socialcredit.settings import Settings
from socialcredit.store.db import create_engine, init_store

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get(
    "SCS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_admin() -> sa.Engine | None:
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        engine.dispose()
        return None
    return engine


@contextmanager
def own_postgres_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of the caller's own, dropped afterwards (its URL); skipped with the
    reason when the server is absent, failed instead under SCS_REQUIRE_POSTGRES=1."""
    admin = _postgres_admin()
    if admin is None:
        if os.environ.get("SCS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (SCS_REQUIRE_POSTGRES=1) but {PG_URL} is down")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test session, dropped at the end."""
    with own_postgres_database("scs_test") as url:
        yield url


def _fresh_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of an empty, migrated store; runs each test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        result = Settings(home=tmp_path / "scs-data")
    else:
        url = request.getfixturevalue("postgres_database")
        _fresh_postgres(url)
        result = Settings(home=tmp_path / "scs-data", database_url=url)
    engine = create_engine(result)
    init_store(engine)
    engine.dispose()
    return result


@pytest.fixture
def engine(settings: Settings) -> Iterator[sa.Engine]:
    made = create_engine(settings)
    yield made
    made.dispose()


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    result = Settings(home=tmp_path / "scs-data")
    made = create_engine(result)
    init_store(made)
    made.dispose()
    return result


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession (local[2], 4 shuffle partitions) for the whole test session.

    Skipped with the reason when pyspark or Java is missing; CI sets SCS_REQUIRE_SPARK=1, which
    turns that skip into a failure, as for PostgreSQL.
    """
    from socialcredit.engine.spark import spark_missing, spark_session

    problem = spark_missing()
    if problem:
        if os.environ.get("SCS_REQUIRE_SPARK") == "1":
            pytest.fail(f"Spark is required (SCS_REQUIRE_SPARK=1) but {problem}")
        pytest.skip(f"Spark cannot run here: {problem}")
    # Adaptive execution re-plans every stage: on tiny test worlds that costs more than it saves.
    config = {"spark.ui.showConsoleProgress": "false", "spark.sql.adaptive.enabled": "false"}
    session = spark_session(config=config)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
