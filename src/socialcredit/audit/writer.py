"""Group commit for the audit log, for the service's hot paths.

Each request awaits the commit of its own entry, so nothing is answered that was not logged;
entries that arrive while a batch is being written wait for the next batch, which is written in
one transaction. Under load the batch grows and the cost per entry falls; when idle, a single
entry is written at once.

On SQLite the batch is committed on the event loop itself when the lock is free (a local commit
is cheaper than the hand-off to a thread, which halved the gate check's throughput); when another
writer holds the lock, and always on PostgreSQL (a network round trip), a thread waits for it
so that the loop goes on serving.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from socialcredit.audit.log import Entry, append_entries, impatient, try_append_now


class AuditWriter:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._pending: list[tuple[Entry, asyncio.Future[None]]] = []
        self._flushing = False
        self._local = impatient(engine) if engine.dialect.name == "sqlite" else None

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None

    async def record(self, entry: Entry) -> None:
        """Append `entry`; returns once it is committed (raises if it could not be)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._write([e for e, _ in batch])
                except Exception as error:  # noqa: BLE001 - handed to the waiting requests
                    if len(batch) == 1:
                        _settle(batch[0][1], error)
                        continue
                    # One bad entry must not fail the others: write them one by one.
                    for entry, future in batch:
                        try:
                            await self._write([entry])
                        except Exception as single:  # noqa: BLE001 - to its own request
                            _settle(future, single)
                        else:
                            _settle(future, None)
                    continue
                for _, future in batch:
                    _settle(future, None)
        finally:
            self._flushing = False

    async def _write(self, entries: list[Entry]) -> None:
        if not (self._local is not None and try_append_now(self._local, entries)):
            await asyncio.to_thread(append_entries, self.engine, entries)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    """Answer one waiting request, unless it is gone: a request whose client hung up has its
    future cancelled, and setting a result on it would raise `InvalidStateError` and end the
    flush, leaving the rest of the batch unanswered. Its entry is written all the same."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
