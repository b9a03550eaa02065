"""Group commit for the audit log, for the service's hot paths.

Each request awaits the commit of its own entry, so nothing is answered that was not logged;
entries that arrive while a batch is being written wait for the next batch, which is written in
one transaction. Under load the batch grows and the cost per entry falls; when idle, a single
entry is written at once.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from socialcredit.audit.log import Entry, append_entries


class AuditWriter:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._pending: list[tuple[Entry, asyncio.Future[None]]] = []
        self._flushing = False
        self.batches = 0
        self.entries = 0

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
                    await asyncio.to_thread(append_entries, self.engine, [e for e, _ in batch])
                except Exception as error:  # noqa: BLE001 - handed to every waiting request
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.batches += 1
                self.entries += len(batch)
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            self._flushing = False
