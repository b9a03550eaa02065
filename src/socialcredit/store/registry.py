"""Subjects, their identifiers and their relationships: reads and bulk writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.errors import NotFound
from socialcredit.identifiers import parse
from socialcredit.store.bulk import insert_columns
from socialcredit.store.schema import identifiers, relationships, subjects

_LOOKUP_CHUNK = 5_000


@dataclass(frozen=True)
class Subject:
    id: int
    kind: str
    name: str
    region: str | None
    born: int | None
    founded: int | None
    identifiers: tuple[str, ...]

    @property
    def identifier(self) -> str:
        """The first registered identifier: how exports and reports name the subject."""
        return self.identifiers[0]


def resolve(conn: sa.Connection, wanted: Iterable[str]) -> dict[str, int]:
    """Map identifiers (canonical `scheme:value`) to subject ids; unknown ones are absent."""
    wanted = list(set(wanted))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        query = sa.select(identifiers.c.identifier, identifiers.c.subject_id).where(
            identifiers.c.identifier.in_(chunk)
        )
        found.update({row.identifier: row.subject_id for row in conn.execute(query)})
    return found


def find_subject(conn: sa.Connection, identifier: str) -> Subject:
    canonical = str(parse(identifier))
    ids = resolve(conn, [canonical])
    if canonical not in ids:
        raise NotFound(f"no subject with identifier {canonical}")
    return subject_by_id(conn, ids[canonical])


def subject_by_id(conn: sa.Connection, subject_id: int) -> Subject:
    row = conn.execute(sa.select(subjects).where(subjects.c.id == subject_id)).first()
    if row is None:
        raise NotFound(f"no subject with id {subject_id}")
    names = conn.execute(
        sa.select(identifiers.c.identifier)
        .where(identifiers.c.subject_id == subject_id)
        .order_by(identifiers.c.ordinal)
    ).scalars()
    return Subject(row.id, row.kind, row.name, row.region, row.born, row.founded, tuple(names))


def first_identifiers(
    conn: sa.Connection, subject_ids: Iterable[int] | None = None
) -> dict[int, str]:
    query = sa.select(identifiers.c.subject_id, identifiers.c.identifier).where(
        identifiers.c.ordinal == 0
    )
    if subject_ids is None:
        return {row.subject_id: row.identifier for row in conn.execute(query)}
    out: dict[int, str] = {}
    ids = list(set(subject_ids))
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = query.where(identifiers.c.subject_id.in_(ids[start : start + _LOOKUP_CHUNK]))
        out.update({row.subject_id: row.identifier for row in conn.execute(chunk)})
    return out


def allocate_ids(conn: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """Reserve `count` new surrogate keys for `table` inside the current transaction."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        sequence = conn.execute(
            sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar_one()
        return list(
            conn.execute(
                sa.text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                {"s": sequence, "n": count},
            ).scalars()
        )
    start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + 1 + count))


@dataclass(frozen=True)
class NewSubject:
    kind: str
    name: str
    region: str | None
    born: int | None
    founded: int | None
    identifiers: Sequence[str]  # canonical, first is the primary one


def add_subjects(
    conn: sa.Connection, rows: Sequence[NewSubject], registered_at: datetime
) -> list[int]:
    ids = allocate_ids(conn, subjects, len(rows))
    insert_columns(
        conn,
        subjects,
        {
            "id": ids,
            "kind": [r.kind for r in rows],
            "name": [r.name for r in rows],
            "region": [r.region for r in rows],
            "born": [r.born for r in rows],
            "founded": [r.founded for r in rows],
            "registered_at": [registered_at] * len(rows),
        },
    )
    names = [
        (ident, i, n)
        for i, r in zip(ids, rows, strict=True)
        for n, ident in enumerate(r.identifiers)
    ]
    insert_columns(
        conn,
        identifiers,
        {
            "identifier": [ident for ident, _, _ in names],
            "subject_id": [i for _, i, _ in names],
            "scheme": [ident.split(":", 1)[0] for ident, _, _ in names],
            "ordinal": [n for _, _, n in names],
        },
    )
    return ids


def add_identifier(conn: sa.Connection, subject_id: int, identifier: str) -> None:
    ordinal = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(identifiers.c.ordinal) + 1, 0)).where(
            identifiers.c.subject_id == subject_id
        )
    ).scalar_one()
    conn.execute(
        identifiers.insert().values(
            identifier=identifier,
            subject_id=subject_id,
            scheme=identifier.split(":", 1)[0],
            ordinal=ordinal,
        )
    )


def subject_rows(conn: sa.Connection, subject_ids: Iterable[int]) -> dict[int, Any]:
    out = {}
    ids = list(set(subject_ids))
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        query = sa.select(subjects).where(subjects.c.id.in_(ids[start : start + _LOOKUP_CHUNK]))
        out.update({row.id: row for row in conn.execute(query)})
    return out


EdgeKey = tuple[int, int, str, datetime | None]  # from, to, kind, valid_from


def latest_edges(conn: sa.Connection) -> dict[EdgeKey, tuple[float, datetime | None]]:
    """The latest version (weight, valid_to) of every stored edge."""
    query = sa.select(
        relationships.c.from_id,
        relationships.c.to_id,
        relationships.c.kind,
        relationships.c.valid_from,
        relationships.c.weight,
        relationships.c.valid_to,
    ).order_by(relationships.c.id)
    return {
        (r.from_id, r.to_id, r.kind, r.valid_from): (r.weight, r.valid_to)
        for r in conn.execute(query)
    }


def add_relationships(
    conn: sa.Connection,
    rows: Iterable[tuple[int, int, str, float, datetime | None, datetime | None]],
    recorded_at: datetime,
) -> int:
    edges = list(rows)
    columns = ("from_id", "to_id", "kind", "weight", "valid_from", "valid_to")
    data: dict[str, list[Any]] = {
        name: [edge[i] for edge in edges] for i, name in enumerate(columns)
    }
    data["recorded_at"] = [recorded_at] * len(edges)
    return insert_columns(conn, relationships, data)


def count_subjects(conn: sa.Connection) -> dict[str, int]:
    query = sa.select(subjects.c.kind, sa.func.count()).group_by(subjects.c.kind)
    return {str(kind): int(n) for kind, n in conn.execute(query)}
