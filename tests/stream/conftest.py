"""Each stream test talks to a NATS server of its own (tests/stream/broker.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stream.broker import Broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    made = Broker(tmp_path / "nats")
    made.start()
    yield made
    made.stop()
