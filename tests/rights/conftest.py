"""The village on an empty store (SQLite and PostgreSQL), evaluated at 2026-06-01."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.settings import Settings
from tests.api.conftest import build_village, scs


@pytest.fixture
def village(settings: Settings) -> Settings:
    build_village(settings)
    return settings


def ingest(settings: Settings, tmp_path: Path, source: str, rows: list[str], name: str) -> None:
    """Send `rows` (CSV lines after the header) as `source`."""
    path = tmp_path / f"{name}.csv"
    path.write_text("record_id,subject,type,occurred_at,value\n" + "\n".join(rows) + "\n")
    scs(settings, "ingest", str(path), "--source", source)


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
