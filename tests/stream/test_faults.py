"""Faults (issue 15, item 6): 100,000 records streamed while the worker is killed with SIGKILL
three times and the NATS server is killed and started again once. Afterwards every record the
server acknowledged is in the store exactly once, and the current outcome equals a fresh full
evaluation. The same function is `benchmarks/stream_faults.py`, which runs it at any size.

It takes about three and a half minutes on two cores, most of it the server's fsync of every
message (`sync_interval: always`, about 740 acknowledged publishes a second here; see
docs/stream.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]


def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "stream_faults", ROOT / "benchmarks" / "stream_faults.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_nothing_acknowledged_is_lost_or_doubled_through_kills_and_a_restart(
    tmp_path: Path,
) -> None:
    run = harness().run_faults(tmp_path, records=100_000, people=2_000, kills=3)
    assert (run.kills, run.server_restarts) == (3, 1)
    assert run.acknowledged == run.records == 100_000
    assert (run.lost, run.duplicated, run.unexpected) == (0, 0, 0)
    assert run.stored == 100_000
    assert run.unchanged > 0, "no message came twice: the faults did not bite"
    assert run.outcome_equal, run.notes
    assert run.outcome_subjects == 2_000
    assert run.worker_exit == 0  # SIGTERM: the batch in hand acked, then a clean exit
