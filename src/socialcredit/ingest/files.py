"""Importing and ingesting files: one path for the CLI, the demo and batch jobs.

Each call is one write transaction holding the log lock (`store.db.writing`), and the instant
it stamps on what it writes is taken inside it, so that `known_at` stays exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from socialcredit.ingest.accept import OPTIONAL, REQUIRED, accept_records
from socialcredit.ingest.readers import read_rows
from socialcredit.ingest.registry import (
    RELATIONSHIP_COLUMNS,
    RELATIONSHIP_OPTIONAL,
    SUBJECT_COLUMNS,
    SUBJECT_OPTIONAL,
    import_relationships,
    import_subjects,
)
from socialcredit.ingest.report import Report
from socialcredit.store.db import writing
from socialcredit.store.sources import get_source
from socialcredit.timeutil import now

T = TypeVar("T")
Watch = Callable[[Iterable[T]], Iterable[T]]


def _same(rows: Iterable[T]) -> Iterator[T]:
    yield from rows


def ingest_file(
    engine: sa.Engine,
    path: Path,
    source: str,
    fmt: str | None = None,
    watch: Watch[object] | None = None,
) -> Report:
    """Append the records of a file from a registered source."""
    with writing(engine) as conn:
        sender = get_source(conn, source)
        rows = read_rows(path, REQUIRED, OPTIONAL, fmt)
        return accept_records(conn, sender, (watch or _same)(rows), now())  # type: ignore[arg-type]


def import_subjects_file(
    engine: sa.Engine, path: Path, fmt: str | None = None, watch: Watch[object] | None = None
) -> Report:
    rows = read_rows(path, SUBJECT_COLUMNS, SUBJECT_OPTIONAL, fmt)
    with writing(engine) as conn:
        return import_subjects(conn, (watch or _same)(rows), now())  # type: ignore[arg-type]


def import_relationships_file(
    engine: sa.Engine, path: Path, fmt: str | None = None, watch: Watch[object] | None = None
) -> Report:
    rows = read_rows(path, RELATIONSHIP_COLUMNS, RELATIONSHIP_OPTIONAL, fmt)
    with writing(engine) as conn:
        return import_relationships(conn, (watch or _same)(rows), now())  # type: ignore[arg-type]
