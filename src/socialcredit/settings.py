"""Environment settings (prefix `SCS_`). Passed around as an object, never mutated globally."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCS_", frozen=True)

    home: Path = Field(
        default=Path("scs-data"), description="Folder of the embedded store (SQLite) and its files."
    )
    database_url: str | None = Field(
        default=None,
        description="Any SQLAlchemy URL (sqlite:///… or postgresql+psycopg://…); overrides home.",
    )
    duckdb_threads: int | None = Field(default=None, ge=1, description="DuckDB worker threads.")
    duckdb_memory_limit: str | None = Field(default=None, description="e.g. '8GB'.")
    duckdb_spill_limit: str | None = Field(
        default=None, description="Disk DuckDB may spill to in lake runs, e.g. '40GB'."
    )
    max_head_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        description="Largest request line plus headers the service reads; past it, 431.",
    )
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="Largest request body the service reads; past it, 413.",
    )

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'scs.db'}"
