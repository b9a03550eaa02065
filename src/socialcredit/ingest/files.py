"""Importing and ingesting files: one path for the CLI, the demo and batch jobs.

Each call is one write transaction holding the log lock (`store.db.writing`), and the instant
it stamps on what it writes is taken inside it, so that `known_at` stays exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import sqlalchemy as sa

from socialcredit.ingest.accept import OPTIONAL, REQUIRED, accept_records
from socialcredit.ingest.readers import BadLine, Row, read_rows
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

Numbered = Iterable[tuple[int, Row | BadLine]]
Watch = Callable[[Numbered], Numbered]  # e.g. a progress bar that passes rows through


def _same(rows: Numbered) -> Numbered:
    return rows


def ingest_file(
    engine: sa.Engine,
    path: Path,
    source: str,
    fmt: str | None = None,
    watch: Watch | None = None,
) -> Report:
    """Append the records of a file from a registered source."""
    with writing(engine) as conn:
        sender = get_source(conn, source)
        rows = read_rows(path, REQUIRED, OPTIONAL, fmt)
        return accept_records(conn, sender, (watch or _same)(rows), now())


def import_subjects_file(
    engine: sa.Engine, path: Path, fmt: str | None = None, watch: Watch | None = None
) -> Report:
    rows = read_rows(path, SUBJECT_COLUMNS, SUBJECT_OPTIONAL, fmt)
    with writing(engine) as conn:
        return import_subjects(conn, (watch or _same)(rows), now())


def import_relationships_file(
    engine: sa.Engine, path: Path, fmt: str | None = None, watch: Watch | None = None
) -> Report:
    rows = read_rows(path, RELATIONSHIP_COLUMNS, RELATIONSHIP_OPTIONAL, fmt)
    with writing(engine) as conn:
        return import_relationships(conn, (watch or _same)(rows), now())
