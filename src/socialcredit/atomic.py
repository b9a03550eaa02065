"""Parquet files that appear whole or not at all.

A file is written under a hidden temporary name in its final folder (`.name.<random>.tmp`),
flushed to disk, then renamed into place with `os.replace`, which is atomic on one file system:
a reader that lists only `*.parquet` sees the whole file or nothing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 1 << 20


def write_atomic(table: pa.Table, path: Path) -> Path:
    """Write `table` to `path` so that no reader ever sees a partial file."""
    with atomic_writer(path, table.schema) as writer:
        writer.write_table(table, row_group_size=ROW_GROUP)
    return path


@contextmanager
def atomic_writer(path: Path, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
    """A Parquet writer whose file appears at `path`, whole, only when the block ends well
    (for tables written batch by batch, too large to hold at once)."""
    files = AtomicFiles()
    try:
        with files.writer(path, schema) as writer:
            yield writer
        files.commit()
    except BaseException:
        # Whatever went wrong (including an interrupt), leave no temporary file behind.
        files.discard()
        raise


class AtomicFiles:
    """Several files that appear together: each is written under a hidden temporary name and
    flushed, and `commit` renames them all into place once every one is written (so a run
    that fails part-way leaves the previous files, not a mix). `discard` removes them."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []

    @contextmanager
    def slot(self, path: Path) -> Iterator[Path]:
        """The temporary path to write `path`'s file at (by any writer, an engine's too); it
        is flushed to disk when the block ends, and renamed into place by `commit`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        self.pending.append((temporary, path))
        yield temporary
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())

    @contextmanager
    def writer(self, path: Path, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
        with (
            self.slot(path) as temporary,
            pq.ParquetWriter(temporary, schema, compression="zstd") as writer,
        ):
            yield writer

    def commit(self) -> None:
        for temporary, path in self.pending:
            os.replace(temporary, path)
        self.pending = []

    def discard(self) -> None:
        for temporary, _ in self.pending:
            temporary.unlink(missing_ok=True)
        self.pending = []
