"""The service's background refresher: real time without a broker.

`scs serve` nudges it after every write it accepts (`POST /v1/records`, objections, appeals,
overrides, registry imports: any request that changes the store); one thread runs
`outcomes.refresh.catch_up`, one refresh at a time, and a burst of nudges during a refresh makes
one more refresh after it, not one each. Every `SCS_REBASE_INTERVAL` seconds it runs a full
current evaluation instead (the re-base: time-only drift, docs/realtime.md), and every
`SCS_RERANK_INTERVAL` seconds after a refresh it re-ranks the percentiles (`outcomes.rerank`).
After each policy's refresh commits (the cheap policies first, see `catch_up`), and after each
re-base, `on_change` is told (the gate index's `poke`), so the gate answers at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from socialcredit.outcomes.live_data import LiveData
from socialcredit.outcomes.refresh import CatchUp, catch_up
from socialcredit.outcomes.rerank import rerank
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.settings import Settings

log = logging.getLogger("socialcredit.refresh")


class Refresher:
    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.engine, self.settings = engine, settings
        self.on_change = on_change or (lambda: None)
        self.cache = LiveData(settings)
        self.last: CatchUp | None = None  # the last refresh that did something
        self.refreshes = 0  # catch-ups run (including those that found nothing)
        self.rebases = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scs-refresher", daemon=True)
        interval = settings.rebase_interval
        self._next_rebase = time.monotonic() + interval if interval > 0 else None
        self._next_rerank: float | None = None  # set by a refresh that changed something

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def nudge(self) -> None:
        """The store changed: refresh soon (nudges during a refresh coalesce into one)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            due = [t for t in (self._next_rebase, self._next_rerank) if t is not None]
            wait = max(0.0, min(due) - time.monotonic()) if due else None
            self._wake.wait(wait)
            if self._stop.is_set():
                return
            self._wake.clear()
            if self._next_rebase is not None and time.monotonic() >= self._next_rebase:
                self._rebase()
            elif self._next_rerank is not None and time.monotonic() >= self._next_rerank:
                self._rerank()
            else:
                self._catch_up()

    def _catch_up(self) -> None:
        try:
            found = catch_up(
                self.engine,
                self.settings,
                data_cache=self.cache,
                on_commit=lambda _: self.on_change(),  # each policy's rows reach the gate at once
            )
        except Exception:  # the service outlives a failed refresh; the next nudge retries
            log.exception("the refresh failed; the next write or the re-base retries it")
            return
        finally:
            self.refreshes += 1
        if found is not None:
            self.last = found
            self.on_change()
            if self.settings.rerank_interval > 0 and self._next_rerank is None:
                self._next_rerank = time.monotonic() + self.settings.rerank_interval

    def _rerank(self) -> None:
        self._next_rerank = None
        try:
            rerank(self.engine)
        except Exception:  # the store is busy or down: the next refresh schedules another
            log.exception("re-ranking the percentiles failed; the next refresh retries it")

    def _rebase(self) -> None:
        interval = self.settings.rebase_interval
        try:
            run_evaluations(self.engine, self.settings)
            self.rebases += 1
        except Exception:  # e.g. the store is busy or down: keep serving, try next interval
            log.exception("the scheduled re-base failed; it runs again in %s s", interval)
        finally:
            self._next_rebase = time.monotonic() + interval
            self._next_rerank = None  # a full run's percentiles are exact
        self.on_change()
        self._catch_up()  # what was written while it ran
