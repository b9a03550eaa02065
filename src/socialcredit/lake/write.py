"""Atomic Parquet writes into the lake.

A file is written under a hidden temporary name in its final folder (`.name.<random>.tmp`),
flushed to disk, then renamed into place with `os.replace`, which is atomic on one file system:
a reader lists only `*.parquet`, so it sees the whole file or nothing. Records are split by the
UTC year and month of `occurred_at` (one file per partition per call), so that retention can
drop whole partitions.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.atomic import write_atomic
from socialcredit.errors import InvalidInput
from socialcredit.lake.layout import TABLES, Lake


def conform(table: pa.Table, name: str) -> pa.Table:
    """`table` with exactly the lake schema of `name` (columns in order, types cast)."""
    schema = TABLES[name]
    missing = [c for c in schema.names if c not in table.column_names]
    if missing:
        raise InvalidInput(name, f"missing columns {', '.join(missing)}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise InvalidInput(name, f"does not fit the lake schema ({error})") from None


def write_registry(lake: Lake, name: str, table: pa.Table, part: str) -> Path:
    """Write one part of a registry table (subjects, relationships, sources)."""
    if name == "records":
        raise InvalidInput("table", "records go through append_records (they are partitioned)")
    return write_atomic(conform(table, name), lake.table_dir(name) / f"{part}.parquet")


def append_records(lake: Lake, records: pa.Table, part: str) -> list[Path]:
    """Write records, one file named `part` per (year, month) partition of occurred_at.

    Rows are sorted by partition, then subject, then occurred_at, so that files compress well
    and their statistics let a reader skip row groups. Writing the same part again replaces it.
    """
    table = conform(records, "records")
    if table.num_rows == 0:
        return []
    if table["occurred_at"].null_count:
        raise InvalidInput("occurred_at", "every lake record needs an instant")
    occurred = table["occurred_at"]
    key = pc.add(pc.multiply(pc.year(occurred), 100), pc.month(occurred))
    table = table.append_column("_key", key)
    table = table.sort_by(
        [("_key", "ascending"), ("sid", "ascending"), ("occurred_at", "ascending")]
    )
    keys = table["_key"].to_numpy()
    bounds = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist(), len(keys)]
    table = table.drop_columns(["_key"])
    written = []
    for start, end in itertools.pairwise(bounds):
        year, month = divmod(int(keys[start]), 100)
        path = lake.partition(year, month) / f"{part}.parquet"
        written.append(write_atomic(table.slice(start, end - start), path))
    return written
