"""Importing subjects and relationships (CSV rows), with a per-row report.

subjects:      identifier,kind,name,region,born[,founded,same_as]
relationships: from,to,kind,weight,valid_from,valid_to
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from socialcredit.errors import IdentifierError
from socialcredit.identifiers import Identifier, parse, rid_birth_date
from socialcredit.ingest import fields
from socialcredit.ingest.readers import BadLine, Row
from socialcredit.ingest.report import Report
from socialcredit.policy.schema import RELATIONSHIP_KINDS, SUBJECT_KINDS
from socialcredit.store import registry
from socialcredit.timeutil import now

T = TypeVar("T")
SUBJECT_COLUMNS = ("identifier", "kind", "name")
SUBJECT_OPTIONAL = ("region", "born", "founded", "same_as")
RELATIONSHIP_COLUMNS = ("from", "to", "kind")
RELATIONSHIP_OPTIONAL = ("weight", "valid_from", "valid_to")

# Which kinds of subject each relationship joins (from -> to).
ENDPOINTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "guardian": (("person",), ("person",)),
    "spouse": (("person",), ("person",)),
    "household": (("person",), ("person",)),
    "contact": (("person", "organization", "authority"), ("person", "organization", "authority")),
    "employer": (("organization", "authority"), ("person",)),
    "legal_representative": (("person",), ("organization", "authority")),
    "shareholder": (("person", "organization", "authority"), ("organization",)),
}


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _kinds(kinds: tuple[str, ...]) -> str:
    return " or ".join(_a(k) for k in kinds)


def _identifier(value: object) -> Identifier:
    raw = fields.text(value, 220)
    assert raw is not None
    try:
        return parse(raw)
    except IdentifierError as error:
        raise ValueError(f"{raw!r}: {error.part}: {error.reason}") from None


def _optional_identifier(value: object) -> Identifier | None:
    return None if value in (None, "") else _identifier(value)


def _field(
    row: Row, name: str, parser: Callable[[Any], T], problems: list[tuple[str, str]]
) -> T | None:
    """Parse one field; a failure is added to `problems` and gives None."""
    try:
        return parser(row.get(name))
    except ValueError as error:
        problems.append((name, str(error)))
        return None


def import_subjects(
    conn: sa.Connection, rows: Iterable[tuple[int, Row | BadLine]], registered_at: datetime
) -> Report:
    started = time.perf_counter()
    report = Report("subjects")
    this_year = now().year
    parsed: list[tuple[int, Identifier, registry.NewSubject, Identifier | None]] = []
    for line, row in report.rows(rows):
        problems: list[tuple[str, str]] = []
        ident = _field(row, "identifier", _identifier, problems)
        kind = _field(row, "kind", lambda v: fields.text(v, 16), problems)
        name = _field(row, "name", lambda v: fields.text(v, 300), problems)
        region = _field(row, "region", lambda v: fields.text(v, 6, required=False), problems)
        born = _field(row, "born", lambda v: fields.integer(v, 1850, this_year), problems)
        founded = _field(row, "founded", lambda v: fields.integer(v, 1800, this_year), problems)
        same_as = _field(row, "same_as", _optional_identifier, problems)
        if kind is not None and kind not in SUBJECT_KINDS:
            problems.append(("kind", f"{kind!r} is not one of {', '.join(SUBJECT_KINDS)}"))
            kind = None
        if region is not None and not (len(region) == 6 and region.isdigit()):
            problems.append(("region", f"{region!r} is not a 6-digit GB/T 2260 code"))
        if ident is not None and kind is not None and kind not in ident.subject_kinds:
            problems.append(
                (
                    "kind",
                    f"a {ident.scheme} identifies {_kinds(ident.subject_kinds)}, not {_a(kind)}",
                )
            )
        if kind is not None and kind != "person" and born is not None:
            # `born` of an organization is its founding year, accepted for convenience
            if founded is not None and founded != born:
                problems.append(
                    (
                        "born",
                        f"an organization's born is its founding year, but founded says {founded}",
                    )
                )
            founded, born = born, None
        if kind == "person" and founded is not None:
            problems.append(("founded", "a person has `born`, not `founded`"))
        if ident is not None and ident.scheme == "cn-rid" and born is None and not problems:
            born = rid_birth_date(ident.value).year  # the identifier says when
        if ident is not None and ident.scheme == "cn-rid" and born is not None:
            birth = rid_birth_date(ident.value)
            if birth.year != born:
                problems.append(
                    (
                        "born",
                        f"{born} does not match the birth date in the "
                        f"identifier ({birth.isoformat()})",
                    )
                )
        if problems:
            report.reject_all(line, problems)
            continue
        assert ident is not None
        assert kind is not None
        assert name is not None
        subject = registry.NewSubject(kind, name, region, born, founded, (str(ident),))
        parsed.append((line, ident, subject, same_as))

    known = registry.resolve(
        conn, [str(i) for _, i, _, _ in parsed] + [str(s) for _, _, _, s in parsed if s is not None]
    )
    existing = registry.subject_rows(conn, known.values())
    new: list[registry.NewSubject] = []
    aliases: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    for line, ident, subject, same_as in parsed:
        key = str(ident)
        if key in seen:
            report.reject(line, "identifier", f"{key} repeats line {seen[key]} of this file")
            continue
        seen[key] = line
        if key in known:
            row = existing[known[key]]
            stored = (row.kind, row.name, row.region, row.born, row.founded)
            given = (subject.kind, subject.name, subject.region, subject.born, subject.founded)
            if stored == given:
                report.unchanged += 1
            else:
                names = ("kind", "name", "region", "born", "founded")
                differs = [n for n, a, b in zip(names, stored, given, strict=True) if a != b]
                report.reject(
                    line,
                    differs[0],
                    f"{key} is already registered with "
                    f"{differs[0]} {stored[names.index(differs[0])]!r}; subjects are "
                    "not edited by import",
                )
            continue
        if same_as is not None:
            if str(same_as) not in known:
                report.reject(line, "same_as", f"{same_as} is not registered")
                continue
            row = existing[known[str(same_as)]]
            if row.kind != subject.kind:
                report.reject(
                    line, "same_as", f"{same_as} is {_a(row.kind)}, not {_a(subject.kind)}"
                )
                continue
            aliases.append((row.id, key, str(same_as)))
            continue
        new.append(subject)
    registry.add_subjects(conn, new, registered_at)
    for subject_id, identifier, _ in aliases:
        registry.add_identifier(conn, subject_id, identifier)
    report.accepted = len(new) + len(aliases)
    report.seconds = time.perf_counter() - started
    return report


def import_relationships(
    conn: sa.Connection, rows: Iterable[tuple[int, Row | BadLine]], recorded_at: datetime
) -> Report:
    started = time.perf_counter()
    report = Report("relationships")
    parsed: list[tuple[int, str, str, str, float, datetime | None, datetime | None]] = []
    for line, row in report.rows(rows):
        problems: list[tuple[str, str]] = []
        src = _field(row, "from", _identifier, problems)
        dst = _field(row, "to", _identifier, problems)
        kind = _field(row, "kind", lambda v: fields.text(v, 32), problems)
        weight = _field(row, "weight", fields.number, problems)
        start = _field(row, "valid_from", lambda v: fields.instant(v, required=False), problems)
        end = _field(row, "valid_to", lambda v: fields.instant(v, required=False), problems)
        if kind is not None and kind not in RELATIONSHIP_KINDS:
            problems.append(("kind", f"{kind!r} is not one of {', '.join(RELATIONSHIP_KINDS)}"))
        if weight is not None and weight <= 0:
            problems.append(("weight", f"{weight} must be above 0"))
        if start is not None and end is not None and end <= start:
            problems.append(("valid_to", "must be after valid_from"))
        if src is not None and src == dst:
            problems.append(("to", "a subject cannot be related to itself"))
        if problems:
            report.reject_all(line, problems)
            continue
        assert src is not None
        assert dst is not None
        assert kind is not None
        parsed.append(
            (line, str(src), str(dst), kind, 1.0 if weight is None else weight, start, end)
        )

    known = registry.resolve(conn, [p[1] for p in parsed] + [p[2] for p in parsed])
    kinds = {r.id: r.kind for r in registry.subject_rows(conn, known.values()).values()}
    stored = registry.latest_edges(conn)
    new = []
    seen: dict[registry.EdgeKey, tuple[int, float, datetime | None]] = {}
    for line, src_id, dst_id, kind, weight, start, end in parsed:
        problems = []
        for field_name, ident in (("from", src_id), ("to", dst_id)):
            if ident not in known:
                problems.append((field_name, f"{ident} is not registered"))
        if not problems:
            allowed_from, allowed_to = ENDPOINTS[kind]
            if kinds[known[src_id]] not in allowed_from:
                problems.append(
                    (
                        "from",
                        f"a {kind} relationship starts at {_kinds(allowed_from)}, "
                        f"not {_a(kinds[known[src_id]])}",
                    )
                )
            if kinds[known[dst_id]] not in allowed_to:
                problems.append(
                    (
                        "to",
                        f"a {kind} relationship ends at {_kinds(allowed_to)}, "
                        f"not {_a(kinds[known[dst_id]])}",
                    )
                )
        key = (known.get(src_id, -1), known.get(dst_id, -1), kind, start)
        if not problems and key in seen and seen[key][1:] != (weight, end):
            problems.append(
                (
                    "kind",
                    "the same relationship (from, to, kind, valid_from) is on line "
                    f"{seen[key][0]} of this file with another weight or valid_to",
                )
            )
        if problems:
            report.reject_all(line, problems)
            continue
        if key in seen or stored.get(key) == (weight, end):
            report.unchanged += 1
            continue
        # New, or a known edge with another valid_to or weight: a new version, recorded now.
        seen[key] = (line, weight, end)
        new.append((known[src_id], known[dst_id], kind, weight, start, end))
    registry.add_relationships(conn, new, recorded_at)
    report.accepted = len(new)
    report.seconds = time.perf_counter() - started
    return report
