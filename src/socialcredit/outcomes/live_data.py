"""The registry in the engine, kept current by id: what a refresh evaluates against.

A refresh must not read the whole store. `LiveData` holds the registry (subjects,
relationships, sources, the record status log, the reviewers' overrides) as engine inputs,
registered with DuckDB once; each refresh appends the rows with ids past the position it holds
(`store.positions`: ids commit in order), and re-registers only the tables that grew. It holds
the whole record log too, in DuckDB beside them (`EngineData.hold_log`), read once and then
appended by id the same way, so that a refresh reads no records from the store: it picks the
records of the subjects it evaluates in the engine (`with_records`). A record the store purges
(retention: its value cleared, a `purged` row in the status log) has its value cleared here
when that status row arrives. A one-off caller (`scs refresh`) does not hold the log
(`hold_log=False`): reading it whole would cost more than the one refresh it serves, which
then reads its subjects' records from the store.

One `LiveData` serves one store in one process (the service's refresher, the stream worker, a
CLI call); processes keep their own and agree through the store.
"""

from __future__ import annotations

import dataclasses
import threading

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from socialcredit.engine import EngineData
from socialcredit.rights.retention import PURGED
from socialcredit.settings import Settings
from socialcredit.store.positions import LogPosition
from socialcredit.store.snapshot import load_records, load_registry_between

GROWING = ("subjects", "relationships", "status", "overrides")


class LiveData:
    """The registry of one store as engine data, current up to `position`."""

    def __init__(self, settings: Settings, *, hold_log: bool = True) -> None:
        self.settings = settings
        self.hold_log = hold_log
        self.position: LogPosition | None = None
        self.data: EngineData | None = None
        self.sources_changed = False  # the last `advance` found other sources or reliabilities
        self.lock = threading.Lock()  # one refresh at a time uses the engine data

    def advance(self, conn: sa.Connection, upto: LogPosition) -> EngineData:
        """The registry as of `upto`, read from `conn` only past the position held (all of it
        the first time, or when the store holds less than before: another store)."""
        held = self.position
        if held is None or self.data is None or _shrank(held, upto):
            inputs = load_registry_between(conn, LogPosition(), upto)
            self.data = EngineData(
                inputs,
                threads=self.settings.duckdb_threads,
                memory_limit=self.settings.duckdb_memory_limit,
            )
            if self.hold_log:
                self.data.hold_log(load_records(conn, upto=upto.records))
            self.position, self.sources_changed = upto, False
            return self.data
        old = self.data.inputs
        new = load_registry_between(conn, held, upto)
        if self.hold_log:
            self.data.append_log(load_records(conn, upto=upto.records, after=held.records))
            purged = new.status.filter(pc.equal(new.status["status"], PURGED))
            self.data.blank_log_values(purged["rid"].to_pylist())
        grown: dict[str, pa.Table] = {}
        for name in GROWING:
            rows = getattr(new, name)
            if rows.num_rows:
                grown[name] = pa.concat_tables([getattr(old, name), rows]).combine_chunks()
        self.sources_changed = not new.sources.equals(old.sources)
        if self.sources_changed:
            grown["sources"] = new.sources
        if grown:
            self.data.replace_inputs(dataclasses.replace(old, **grown))
        self.position = upto
        return self.data

    def with_records(self, conn: sa.Connection, subjects: list[int]) -> EngineData:
        """The engine data with the records of `subjects` (those of the log up to the
        position held) swapped in: from the log held, else read from `conn`."""
        assert self.data is not None and self.position is not None
        if self.hold_log:
            self.data.records_of(subjects)
        else:
            self.data.replace_records(load_records(conn, subjects, upto=self.position.records))
        return self.data


def _shrank(held: LogPosition, upto: LogPosition) -> bool:
    return any(
        getattr(upto, f.name) < getattr(held, f.name) for f in dataclasses.fields(LogPosition)
    )
