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

    audit_key_file: Path | None = Field(
        default=None,
        description="The Ed25519 key that signs audit checkpoints (PEM, mode 0600; made on "
        "first need). Default: audit-key.pem in home.",
    )
    audit_origin: str = Field(
        default="socialcredit.local/audit",
        min_length=1,
        max_length=200,
        pattern=r"^[^\s+]+$",
        description="The audit log's name in its checkpoints and verifier key (no spaces or '+'); "
        "make it unique, e.g. your host and path.",
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often `scs serve` signs a checkpoint of the audit log when it grew "
        "(0: only after evaluations and on request).",
    )

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.home / "audit-key.pem"

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'scs.db'}"
