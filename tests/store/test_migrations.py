from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from socialcredit.errors import StoreNotReady
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine, head_revision, init_store, require_ready
from socialcredit.store.schema import metadata


def test_migrations_build_exactly_the_schema(engine: sa.Engine) -> None:
    require_ready(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_init_is_idempotent(engine: sa.Engine) -> None:
    assert init_store(engine) == head_revision()
    require_ready(engine)


def test_missing_store_says_run_init(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(Settings(home=tmp_path / "nowhere"))
    with pytest.raises(StoreNotReady, match="scs init"):
        require_ready(engine)
