"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from socialcredit.timeutil import as_utc, from_us, to_us


class UTCTimestamp(sa.types.TypeDecorator[datetime]):
    """An instant in UTC.

    PostgreSQL stores it as `timestamptz`. SQLite has no timestamp type, so it stores integer
    microseconds since the Unix epoch: exact, compact and cheap to read in bulk for the engine.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_us(value)
        return as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return from_us(int(value))
        return as_utc(value)


def epoch_us(column: sa.ColumnElement[Any], dialect: Dialect) -> sa.ColumnElement[Any]:
    """A SQL expression giving a UTCTimestamp column as integer microseconds."""
    if dialect.name == "sqlite":
        return sa.type_coerce(column, sa.BigInteger())
    seconds = sa.extract("epoch", column)
    return sa.cast(sa.func.round(seconds * 1_000_000), sa.BigInteger)


# A JSON document: jsonb on PostgreSQL, text elsewhere.
JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
