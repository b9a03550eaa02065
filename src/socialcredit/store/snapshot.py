"""Reading the store into the engine's Inputs (Arrow): all of it, or the registry plus the
records of some subjects (what an explanation or a subset evaluation needs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from socialcredit.engine.data import RECORDS, RELATIONSHIPS, SOURCES, STATUS, SUBJECTS, Inputs
from socialcredit.engine.overrides import OVERRIDES
from socialcredit.store.bulk import read_arrow
from socialcredit.store.positions import LogPosition
from socialcredit.store.schema import (
    overrides,
    record_status,
    records,
    relationships,
    sources,
    subjects,
)
from socialcredit.store.types import epoch_us

_CHUNK = 5_000


def load_inputs(conn: sa.Connection) -> Inputs:
    """The whole store as engine inputs."""
    return dataclasses.replace(load_registry(conn), records=load_records(conn))


def load_registry(conn: sa.Connection) -> Inputs:
    """Subjects, relationships, sources, the record status log and the reviewers' overrides;
    no records."""
    return _registry(conn, None, None)


def load_registry_between(conn: sa.Connection, after: LogPosition, upto: LogPosition) -> Inputs:
    """The registry rows with ids past `after` up to `upto` (every source; no records): what
    keeps a copy of the registry current without reading it again (`outcomes.live_data`)."""
    return _registry(conn, after, upto)


def _between(
    query: sa.Select[Any], column: sa.ColumnElement[int], after: int | None, upto: int | None
) -> sa.Select[Any]:
    if after is not None:
        query = query.where(column > after)
    if upto is not None:
        query = query.where(column <= upto)
    return query


def _registry(conn: sa.Connection, after: LogPosition | None, upto: LogPosition | None) -> Inputs:
    d = conn.dialect

    def bounds(name: str) -> tuple[int | None, int | None]:
        return (
            None if after is None else getattr(after, name),
            None if upto is None else getattr(upto, name),
        )

    subject_q = sa.select(
        subjects.c.id,
        subjects.c.kind,
        subjects.c.region,
        subjects.c.born,
        epoch_us(subjects.c.registered_at, d),
    ).order_by(subjects.c.id)
    edge_q = sa.select(
        relationships.c.id,
        relationships.c.from_id,
        relationships.c.to_id,
        relationships.c.kind,
        relationships.c.weight,
        epoch_us(relationships.c.valid_from, d),
        epoch_us(relationships.c.valid_to, d),
        epoch_us(relationships.c.recorded_at, d),
    ).order_by(relationships.c.id)
    source_q = sa.select(sources.c.id, sources.c.reliability).order_by(sources.c.id)
    status_q = sa.select(
        record_status.c.record_pk,
        record_status.c.status,
        epoch_us(record_status.c.changed_at, d),
        record_status.c.id,
    ).order_by(record_status.c.id)
    return Inputs(
        subjects=read_arrow(
            conn, _between(subject_q, subjects.c.id, *bounds("subjects")), SUBJECTS
        ),
        relationships=read_arrow(
            conn,
            _between(edge_q, relationships.c.id, *bounds("relationships")),
            RELATIONSHIPS,
        ),
        sources=read_arrow(conn, source_q, SOURCES),
        records=RECORDS.empty_table(),
        status=read_arrow(conn, _between(status_q, record_status.c.id, *bounds("status")), STATUS),
        overrides=load_overrides(conn, *bounds("overrides")),
    )


def load_overrides(
    conn: sa.Connection, after: int | None = None, upto: int | None = None
) -> pa.Table:
    """The reviewers' overrides (engine.overrides.OVERRIDES), oldest first (those with ids
    past `after` up to `upto`)."""
    d = conn.dialect
    query = sa.select(
        overrides.c.policy_name,
        overrides.c.measure,
        overrides.c.subject_id,
        overrides.c.cause_subject_id,
        overrides.c.reasons,
        epoch_us(overrides.c.granted_at, d).label("granted_us"),
        epoch_us(overrides.c.until, d).label("until_us"),
    ).order_by(overrides.c.id)
    rows = conn.execute(_between(query, overrides.c.id, after, upto)).all()
    return pa.Table.from_pylist(
        [
            {
                "policy": r.policy_name,
                "measure": r.measure,
                "sid": r.subject_id,
                "cause_sid": r.cause_subject_id,
                "reasons": list(r.reasons),
                "granted_us": int(r.granted_us),
                "until_us": None if r.until_us is None else int(r.until_us),
            }
            for r in rows
        ],
        schema=OVERRIDES,
    )


def load_records(
    conn: sa.Connection,
    subject_ids: Sequence[int] | None = None,
    upto: int | None = None,
    after: int | None = None,
) -> pa.Table:
    """The record log (all of it, or the records of `subject_ids`; with `upto`, only the
    records with ids up to it: the log as it stood at a position; with `after`, only those
    with ids past it: what keeps a copy of the log current, `outcomes.live_data`)."""
    d = conn.dialect
    query: sa.Select[Any] = sa.select(
        records.c.id,
        records.c.source_id,
        records.c.record_id,
        records.c.subject_id,
        records.c.type,
        epoch_us(records.c.occurred_at, d),
        epoch_us(records.c.received_at, d),
        records.c.value,
    ).order_by(records.c.id)
    query = _between(query, records.c.id, after, upto)
    if subject_ids is None:
        return read_arrow(conn, query, RECORDS)
    ids = sorted({int(i) for i in subject_ids})
    parts = [
        read_arrow(conn, query.where(records.c.subject_id.in_(ids[i : i + _CHUNK])), RECORDS)
        for i in range(0, len(ids), _CHUNK)
    ]
    return pa.concat_tables(parts) if parts else RECORDS.empty_table()
