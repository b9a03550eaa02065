"""The counters of the rate limits (`Limiter`) and the tally of repeated refusals
(`RefusalTally`); `api/throttle.py` says which limits there are and applies them."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from socialcredit.audit.log import Entry
from socialcredit.settings import Settings

log = logging.getLogger("socialcredit.api")


class Limiter:
    """The rate limits of one service, over one store of counters."""

    def __init__(self, settings: Settings, namespace: str = "scs") -> None:
        storage: Storage = MemoryStorage()
        if settings.redis_url:
            shared = storage_from_string(
                settings.redis_url, key_prefix=namespace, wrap_exceptions=True
            )
            assert isinstance(shared, Storage)  # a redis:// URL, not async+redis://
            storage = shared
        self.storage = storage
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self.anonymous = parse(settings.rate_anonymous)
        self.failures = parse(settings.rate_failures)
        self.expensive = parse(settings.rate_expensive)
        self._quotas: dict[str, RateLimitItem] = {}
        self._warned = 0.0

    def quota(self, rate: str) -> RateLimitItem:
        found = self._quotas.get(rate)
        if found is None:
            found = self._quotas[rate] = parse(rate)
        return found

    def hit(self, item: RateLimitItem, *who: str) -> int | None:
        """Count one request; None if it is within `item`, else the seconds to wait."""
        try:
            if self._strategy.hit(item, *who):
                return None
            reset = self._strategy.get_window_stats(item, *who).reset_time
        except StorageError as error:
            self._storage_failed(error)
            return None
        # `reset` is on the counters' own clock (the epoch, as `limits` keeps it)
        return max(1, math.ceil(reset - time.time()))

    def spent(self, item: RateLimitItem, *who: str) -> int | None:
        """Like `hit`, without counting: None while `item` has room left."""
        try:
            if self._strategy.test(item, *who):
                return None
            reset = self._strategy.get_window_stats(item, *who).reset_time
        except StorageError as error:
            self._storage_failed(error)
            return None
        return max(1, math.ceil(reset - time.time()))

    def _storage_failed(self, error: StorageError) -> None:
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            log.warning("rate limits not enforced: their counters cannot be reached (%s)", error)


@dataclass
class _Window:
    ends: float
    last: Entry
    more: int = 0  # refusals after the first, which was written as it happened


class RefusalTally:
    """Repeated refusals of one client (address and outcome) in a window make one audit entry
    with their count: `count` says which entries to write now (the first of a window, and the
    summaries of the windows that have closed)."""

    def __init__(self, window: float, most: int = 10_000) -> None:
        self.window = window
        self.most = most  # windows kept open at once; past it, all are closed
        self._open: dict[tuple[str, str], _Window] = {}
        self._next_sweep = 0.0
        self._lock = threading.Lock()  # the synchronous handlers count from worker threads

    def count(self, client: str, entry: Entry, clock: float | None = None) -> list[Entry]:
        now = time.monotonic() if clock is None else clock
        key = (client, entry.outcome)
        with self._lock:
            due = self._close(now) if now >= self._next_sweep else []
            found = self._open.get(key)
            if found is not None and found.ends <= now:  # its window has closed: count it
                due += self._summary(key, self._open.pop(key))
                found = None
            if found is None:
                self._open[key] = _Window(now + self.window, entry)
                due.append(entry)
            else:
                found.more += 1
                found.last = entry
            if len(self._open) > self.most:
                due += self._close(math.inf)
        return due

    def close(self, clock: float | None = None) -> list[Entry]:
        """The summaries of the windows that have ended by `clock` (default now; `math.inf`:
        every window, at shutdown)."""
        with self._lock:
            return self._close(time.monotonic() if clock is None else clock)

    def _close(self, now: float) -> list[Entry]:
        self._next_sweep = now + self.window / 2
        ended = [key for key, w in self._open.items() if w.ends <= now]
        return [e for key in ended for e in self._summary(key, self._open.pop(key))]

    def _summary(self, key: tuple[str, str], window: _Window) -> list[Entry]:
        if not window.more:
            return []
        (client, outcome), last = key, window.last
        target = (
            f"{window.more} more {outcome} from {client} within {self.window:g} s; "
            f"last: {last.action} {last.target}"
        )
        return [Entry.now(last.actor, last.role, "refusals", target, last.purpose, outcome)]
