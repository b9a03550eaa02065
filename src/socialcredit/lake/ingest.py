"""`scs ingest --lake`: records validated by `accept_records` against the store's registry and
sources, deduplicated against both the store and the lake, and appended to the lake.

The batch still runs inside the store's write transaction (`store.db.writing`), so ingests
into one lake are serialized by the store's log lock and `received_at` is stamped under it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from socialcredit.errors import InvalidInput
from socialcredit.ingest.accept import OPTIONAL, REQUIRED, StoreLog, accept_records
from socialcredit.ingest.readers import BadLine, Row, read_rows
from socialcredit.ingest.report import Report
from socialcredit.lake.layout import INSTANT, Lake
from socialcredit.lake.read import _quote
from socialcredit.lake.write import append_records
from socialcredit.store.db import writing
from socialcredit.store.records import StoredRecord
from socialcredit.store.sources import get_source
from socialcredit.timeutil import now

Numbered = Iterable[tuple[int, Row | BadLine]]
LAKE_PK = -1  # lake records have no row id in the store


class LakeLog:
    """The lake's record log: look up in the store and the lake, append to the lake."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.store = StoreLog()
        self.written: list[Path] = []

    def lookup(
        self, conn: sa.Connection, source_id: str, record_ids: Iterable[str]
    ) -> dict[str, StoredRecord]:
        wanted = sorted(set(record_ids))
        found = self.store.lookup(conn, source_id, wanted)
        if not wanted or not self.lake.files("records"):
            return found
        scan = f"read_parquet({_quote(self.lake.glob('records'))}, hive_partitioning = true)"
        ids = pa.table({"record_id": pa.array(wanted, pa.string())})
        with duckdb.connect() as db:
            db.register("wanted", ids)
            stored = db.execute(
                f"SELECT record_id, sid FROM {scan} WHERE source = ? "  # noqa: S608 (our own path, quoted)
                "AND record_id IN (SELECT record_id FROM wanted)",
                [source_id],
            ).fetchall()
            replaced = db.execute(
                f"SELECT DISTINCT supersedes FROM {scan} WHERE source = ? "  # noqa: S608 (our own path, quoted)
                "AND supersedes IN (SELECT record_id FROM wanted)",
                [source_id],
            ).fetchall()
        superseded = {row[0] for row in replaced}
        for record_id, sid in stored:
            status = "superseded" if record_id in superseded else "active"
            found.setdefault(record_id, StoredRecord(LAKE_PK, record_id, int(sid), status))
        return found

    def append(self, conn: sa.Connection, columns: dict[str, Sequence[Any]]) -> int:
        received = columns["received_at"]
        table = pa.table(
            {
                "source": pa.array(columns["source_id"], pa.string()),
                "record_id": pa.array(columns["record_id"], pa.string()),
                "subject": pa.array(columns["subject"], pa.string()),
                "sid": pa.array(columns["subject_id"], pa.int64()),
                "type": pa.array(columns["type"], pa.string()),
                "occurred_at": pa.array(columns["occurred_at"], pa.int64()).cast(INSTANT),
                "received_at": pa.array(received, pa.int64()).cast(INSTANT),
                "value": pa.array(columns["value"], pa.float64()),
                "attrs": pa.array(
                    [
                        None if a is None else json.dumps(a, sort_keys=True)
                        for a in columns["attrs"]
                    ],
                    pa.string(),
                ),
                "supersedes": pa.array(columns["supersedes"], pa.string()),
            }
        )
        if table.num_rows:
            part = f"ingest-{int(received[0])}-{secrets.token_hex(4)}"
            self.written += append_records(self.lake, table, part)
        return int(table.num_rows)

    def change_status(
        self,
        conn: sa.Connection,
        changes: Sequence[tuple[str, str, str, str]],
        at: datetime,
        actor: str,
    ) -> None:
        """Supersessions are in the lake already (the new record's `supersedes`)."""
        other = [c for c in changes if c[2] != "superseded"]
        if other:
            raise InvalidInput("status", "the lake records only supersessions; use the store")


def ingest_to_lake(
    engine: sa.Engine,
    lake: Lake,
    path: Path,
    source: str,
    fmt: str | None = None,
    watch: Callable[[Numbered], Numbered] | None = None,
) -> Report:
    """Append the records of a file from a registered source to the lake."""
    log = LakeLog(lake)
    with writing(engine) as conn:
        sender = get_source(conn, source)
        rows = read_rows(path, REQUIRED, OPTIONAL, fmt)
        return accept_records(conn, sender, watch(rows) if watch else rows, now(), log)
