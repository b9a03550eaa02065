"""Environment settings (prefix `SCS_`). Passed around as an object, never mutated globally."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
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

    notice_webhook_url: str | None = Field(
        default=None,
        description="Where `scs rights sweep` POSTs each notice (JSON); unset: notices wait in "
        "the outbox.",
    )
    sweep_interval: int = Field(
        default=300,
        ge=0,
        description="Seconds between the sweeps `scs serve` runs (deadlines, retention, notice "
        "delivery); 0 turns them off.",
    )

    @field_validator("notice_webhook_url")
    @classmethod
    def _webhook_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'scs.db'}"
