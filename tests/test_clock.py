"""The one clock: SCS_NOW freezes every "now" in the system."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialcredit.audit.log import Entry
from socialcredit.errors import InvalidInput
from socialcredit.timeutil import now, now_us, to_us


def test_scs_now_freezes_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCS_NOW", "2026-03-02T08:00:00+08:00")
    frozen = datetime(2026, 3, 2, tzinfo=UTC)
    assert now() == frozen
    assert now_us() == to_us(frozen)
    assert Entry.now("cli:test", "admin", "x", "y", "z").at == frozen
    monkeypatch.setenv("SCS_NOW", "2026-03-22")  # a test moves the clock between two steps
    assert now() == datetime(2026, 3, 22, tzinfo=UTC)


def test_without_scs_now_the_clock_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCS_NOW", raising=False)
    before = datetime.now(UTC)
    assert before <= now() <= datetime.now(UTC)


def test_a_bad_scs_now_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCS_NOW", "yesterday")
    with pytest.raises(InvalidInput, match="SCS_NOW"):
        now()
