"""The operational store: SQLAlchemy Core tables, Alembic migrations, bulk I/O."""
