"""Connecting to the NATS server, and what it says about its own durability.

A command that only asks (init, status, rejects) fails fast when the server is unreachable; the
worker and the publisher reconnect on their own for as long as they run, so that a restart of
the server is a pause, not an error.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client

from socialcredit.errors import BrokerUnavailable
from socialcredit.settings import Settings


async def connect(settings: Settings, *, persistent: bool = False) -> Client:
    """A connection to `SCS_NATS_URL`. `persistent`: reconnect without limit (worker,
    publisher); otherwise give up after a few seconds with BrokerUnavailable."""
    servers = [u.strip() for u in settings.nats_url.split(",") if u.strip()]
    if not servers:
        raise BrokerUnavailable("no NATS server is set: give its address in SCS_NATS_URL")
    options: dict[str, Any] = {
        "servers": servers,
        "connect_timeout": 2,
        "name": "socialcredit",
        "allow_reconnect": True,
        "max_reconnect_attempts": -1 if persistent else 2,
        "reconnect_time_wait": 0.5,
    }
    if persistent:
        options["pending_size"] = 64 * 1024 * 1024  # what waits while reconnecting

    async def quiet(_error: Exception) -> None:
        return None  # nats-py reports every failed reconnect here; the callers report outcomes

    try:
        return await nats.connect(error_cb=quiet, **options)
    except (nats.errors.Error, OSError, TimeoutError) as error:
        raise BrokerUnavailable(
            f"cannot reach the NATS server at {settings.nats_url} (SCS_NATS_URL): "
            f"{error or type(error).__name__}"
        ) from None


@dataclass(frozen=True)
class Durability:
    """How the server flushes JetStream writes to disk, as far as it can be found out."""

    version: str
    sync_always: bool | None  # None: not known (no monitoring endpoint)
    sync_interval_seconds: float | None
    note: str

    @property
    def safe(self) -> bool:
        return self.sync_always is True


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("-")[0].split("."):
        try:
            parts.append(int(part))
        except ValueError:
            break
    return tuple(parts)


def durability(settings: Settings, client: Client) -> Durability:
    """The server's fsync policy: from its monitoring endpoint (`SCS_NATS_MONITOR_URL`,
    /varz's jetstream.config) when configured; otherwise only what its version implies."""
    version = str(client._server_info.get("version", "unknown"))
    if _version_tuple(version) < (2, 10):
        return Durability(
            version,
            False,
            None,
            f"NATS {version} predates the sync_interval setting (2.10): it fsyncs JetStream "
            "writes on a timer, so a record acknowledged shortly before a power failure or an "
            "operating-system crash can be lost; use a server >= 2.10 with "
            "`jetstream { sync_interval: always }`",
        )
    if settings.nats_monitor_url is None:
        return Durability(
            version,
            None,
            None,
            "not verified: set SCS_NATS_MONITOR_URL (the server's http monitoring port) to read "
            "its fsync policy; it must run with `jetstream { sync_interval: always }`",
        )
    url = settings.nats_monitor_url.rstrip("/") + "/varz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - http(s) only, checked in Settings
            varz = json.load(response)
    except (OSError, ValueError) as error:
        return Durability(version, None, None, f"not verified: cannot read {url} ({error})")
    config = (varz.get("jetstream") or {}).get("config") or {}
    always = bool(config.get("sync_always", False))
    interval = config.get("sync_interval")
    seconds = None if interval is None else int(interval) / 1e9
    if always:
        note = "verified: the server fsyncs every JetStream write before acknowledging it"
    else:
        shown = f"{seconds:g} s" if seconds else "its default (2 min)"
        note = (
            f"UNSAFE: the server fsyncs only every {shown}; an acknowledged record can be lost "
            "in a power failure or operating-system crash. Set `jetstream { sync_interval: "
            "always }` in its configuration"
        )
    return Durability(version, always, seconds, note)
