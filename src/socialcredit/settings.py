"""Environment settings (prefix `SCS_`). Passed around as an object, never mutated globally."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
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

    session_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description=(
            "Signs the web pages' session cookies; give every server of one site the same. "
            "Unset: a random secret per process (a restart logs everyone out)."
        ),
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="A web session ends after this long unused."
    )
    session_hours: int = Field(
        default=8, ge=1, le=7 * 24, description="A web session ends this long after login."
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description=(
            "The TLS proxies (comma-separated addresses or networks, or *) whose "
            "X-Forwarded-Proto and X-Forwarded-For the service believes. Unset: it believes none."
        ),
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        """Every entry is `*`, an IP address or a network: a typo must not silently trust
        nobody (or, read as a name, someone else)."""
        if value is None:
            return None
        entries = [e.strip() for e in value.split(",") if e.strip()]
        if not entries:
            raise ValueError("is empty; name the proxies' addresses, or leave it unset")
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address, a network or *") from None
        return ",".join(entries)

    @property
    def trusted_proxies(self) -> list[str]:
        return self.forwarded_allow_ips.split(",") if self.forwarded_allow_ips else []

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'scs.db'}"
