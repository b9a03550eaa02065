"""What `scs` says about a server's fsync policy: from its version, and from its /varz."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from socialcredit.settings import Settings
from socialcredit.stream.connection import durability
from tests.stream.broker import Broker, free_port


def client(version: str) -> Any:
    return SimpleNamespace(_server_info={"version": version})


def test_a_server_before_2_10_cannot_fsync_before_acking(tmp_path: Path) -> None:
    found = durability(Settings(home=tmp_path), client("2.9.10"))
    assert found.sync_always is False and not found.safe
    assert "predates the sync_interval setting" in found.note


def test_without_the_monitoring_url_it_is_not_verified(tmp_path: Path) -> None:
    found = durability(Settings(home=tmp_path), client("2.15.1"))
    assert found.sync_always is None and not found.safe
    assert found.note.startswith("not verified: set SCS_NATS_MONITOR_URL")


def test_an_unreachable_monitoring_url_is_not_verified(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, nats_monitor_url=f"http://127.0.0.1:{free_port()}")
    found = durability(settings, client("2.15.1"))
    assert found.sync_always is None and found.note.startswith("not verified: cannot read")


def test_the_servers_own_varz_is_read(tmp_path: Path, broker: Broker) -> None:
    settings = Settings(home=tmp_path, nats_monitor_url=broker.monitor_url)
    found = durability(settings, client("2.15.1"))
    assert found.safe and found.note.startswith("verified")


def test_a_server_on_the_default_interval_is_unsafe(tmp_path: Path) -> None:
    lazy = Broker(tmp_path / "lazy")
    lazy.config = lambda: _without_sync(lazy)  # type: ignore[method-assign]
    lazy.start()
    try:
        settings = Settings(home=tmp_path, nats_monitor_url=lazy.monitor_url)
        found = durability(settings, client("2.15.1"))
    finally:
        lazy.stop()
    assert found.sync_always is False and found.sync_interval_seconds == 120
    assert found.note.startswith("UNSAFE: the server fsyncs only every 120 s")


def _without_sync(broker: Broker) -> Path:
    path = broker.folder / "nats.conf"
    path.write_text(
        f"listen: 127.0.0.1:{broker.port}\nhttp: 127.0.0.1:{broker.monitor_port}\n"
        f'jetstream {{ store_dir: "{broker.folder / "jetstream"}" }}\n'
    )
    return path
