"""Environment settings (prefix `SCS_`). Passed around as an object, never mutated globally."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from limits import parse
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
    redis_url: str | None = Field(
        default=None,
        description="Redis for the rate limits' counters (redis://host:6379/0), shared by "
        "several workers; default: in each process's memory.",
    )
    rate_anonymous: str = Field(
        default="1200/minute",
        description="Requests without a valid key, per client address.",
    )
    rate_failures: str = Field(
        default="30/minute",
        description="Refusals (401, 403, failed logins) per client address; past it, every "
        "request from the address without a valid key is answered 429.",
    )
    rate_expensive: str = Field(
        default="120/minute",
        description="Policy uploads, evaluations and subject searches, per client address.",
    )
    refusal_window: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Seconds in which repeated refusals of one client make one audit entry.",
    )

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{value!r} is not a Redis URL (redis://host:port/db)")
        return value

    @field_validator("rate_anonymous", "rate_failures", "rate_expensive")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as error:
            raise ValueError(
                f"{value!r} is not a rate: write e.g. 600/minute or 10/second ({error})"
            ) from error
        return value

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

    notice_webhook_url: str | None = Field(
        default=None,
        description="Where `scs rights sweep` POSTs each notice (JSON); unset: notices wait in "
        "the outbox.",
    )
    rebase_interval: int = Field(
        # A full run of the four packs on the demo city takes about 7 s: every 15 minutes that
        # is under 1% of one core, and it bounds the percentile lag and the decay drift of the
        # rows no refresh touched to a quarter of an hour (docs/realtime.md).
        default=900,
        ge=0,
        description="Seconds between the full current evaluations (re-bases) that `scs serve` "
        "runs beside its real-time refreshes; 0 turns them off.",
    )
    rerank_interval: int = Field(
        # One UPDATE per policy (outcomes/rerank.py): on the demo city well under a second, so
        # a minute keeps percentiles within a minute of exact at a negligible cost.
        default=60,
        ge=0,
        description="Seconds between the re-rankings of percentiles that `scs serve` runs after "
        "real-time refreshes changed a score histogram; 0 turns them off.",
    )
    sweep_interval: int = Field(
        default=300,
        ge=0,
        description="Seconds between the sweeps `scs serve` runs (deadlines, retention, notice "
        "delivery); 0 turns them off.",
    )

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="The NATS server whose JetStream carries records in real time "
        "(`scs stream …`); empty: no broker (the dashboard shows no stream).",
    )
    nats_monitor_url: str | None = Field(
        default=None,
        description="The NATS server's monitoring endpoint (http://host:8222), where "
        "`scs stream init` and `scs stream status` read the fsync policy it runs with.",
    )

    @field_validator("nats_url")
    @classmethod
    def _a_nats_url(cls, value: str) -> str:
        schemes = ("nats://", "tls://", "ws://", "wss://")
        if value and not all(u.strip().startswith(schemes) for u in value.split(",")):
            raise ValueError(f"{value!r} is not a NATS URL (nats://host:4222)")
        return value

    @field_validator("nats_monitor_url")
    @classmethod
    def _a_monitor_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

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
