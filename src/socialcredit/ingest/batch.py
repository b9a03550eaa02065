"""Batches posted over HTTP: the same acceptance as files, one transaction per batch.

Rows are numbered from 1 in the order given, and the report names rejected rows by that number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from socialcredit.ingest.accept import accept_records
from socialcredit.ingest.registry import import_relationships, import_subjects
from socialcredit.ingest.report import Report
from socialcredit.store.db import writing
from socialcredit.store.sources import get_source
from socialcredit.timeutil import now

Rows = Sequence[Mapping[str, Any]]


def _numbered(rows: Rows) -> list[tuple[int, dict[str, Any]]]:
    return [(n, dict(row)) for n, row in enumerate(rows, start=1)]


def ingest_batch(engine: sa.Engine, source: str, rows: Rows) -> Report:
    with writing(engine) as conn:
        sender = get_source(conn, source)
        return accept_records(conn, sender, _numbered(rows), now())


def import_subjects_batch(engine: sa.Engine, rows: Rows) -> Report:
    with writing(engine) as conn:
        return import_subjects(conn, _numbered(rows), now())


def import_relationships_batch(engine: sa.Engine, rows: Rows) -> Report:
    with writing(engine) as conn:
        return import_relationships(conn, _numbered(rows), now())
