"""Alembic environment: always run with a connection handed in by `socialcredit.store.db`."""

from __future__ import annotations

from alembic import context

from socialcredit.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by socialcredit.store.db
    raise RuntimeError("run migrations through `scs init` (socialcredit.store.db.init_store)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
