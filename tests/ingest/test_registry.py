"""Importing subjects and relationships: every rejection names line, field and reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.ingest.registry import import_relationships, import_subjects
from socialcredit.store.registry import find_subject

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ALICE = "cn-rid:11010519491231002X"
BOB = "cn-rid:440524188001010014"
ACME = "cn-uscc:91110000802100433B"


def numbered(rows: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return [(i + 2, row) for i, row in enumerate(rows)]


def test_subject_rows(engine: sa.Engine) -> None:
    rows = numbered(
        [
            {
                "identifier": ALICE,
                "kind": "person",
                "name": "Alice",
                "region": "110105",
                "born": "1949",
            },
            {"identifier": ACME, "kind": "organization", "name": "Acme", "born": "2001"},
            {"identifier": BOB, "kind": "organization", "name": "Bob"},
            {"identifier": "cn-rid:440524188001010015", "kind": "person", "name": "X"},
            {"identifier": "ext:x", "kind": "robot", "name": "X"},
            {"identifier": "ext:y", "kind": "person", "name": ""},
            {"identifier": "ext:z", "kind": "person", "name": "Z", "region": "1101"},
            {"identifier": BOB, "kind": "person", "name": "Bob", "born": "1881"},
            {"identifier": ALICE, "kind": "person", "name": "Alice again"},
            {"identifier": "ext:alias", "kind": "person", "name": "Alice", "same_as": ALICE},
            {"identifier": "ext:w", "kind": "person", "name": "W", "born": "3000"},
        ]
    )
    with engine.begin() as conn:
        report = import_subjects(conn, rows, NOW)
    found = {(r.line, r.field): r.reason for r in report.rejected}
    assert report.accepted == 2  # Alice and Acme
    assert "identifies a person, not an organization" in found[(4, "kind")]
    assert "check character" in found[(5, "identifier")]
    assert "'robot' is not one of" in found[(6, "kind")]
    assert found[(7, "name")] == "is required"
    assert "6-digit" in found[(8, "region")]
    assert "does not match the birth date" in found[(9, "born")]
    assert "repeats line 2" in found[(10, "identifier")]
    assert "not registered" in found[(11, "same_as")]  # Alice only exists after this import
    assert "not between 1850" in found[(12, "born")]
    with engine.begin() as conn:
        alias = import_subjects(
            conn,
            numbered(
                [
                    {
                        "identifier": "ext:alias",
                        "kind": "person",
                        "name": "Alice",
                        "same_as": ALICE,
                    },
                    {
                        "identifier": ALICE,
                        "kind": "person",
                        "name": "Alicia",
                        "region": "110105",
                        "born": "1949",
                    },
                ]
            ),
            NOW,
        )
        assert alias.accepted == 1
        assert "already registered with name 'Alice'" in alias.rejected[0].reason
        alice = find_subject(conn, "ext:alias")
        assert alice.identifiers == (ALICE, "ext:alias")
        assert alice.identifier == ALICE
        assert find_subject(conn, ACME).founded == 2001


def test_relationship_rows(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        import_subjects(
            conn,
            numbered(
                [
                    {"identifier": ALICE, "kind": "person", "name": "Alice"},
                    {"identifier": BOB, "kind": "person", "name": "Bob"},
                    {"identifier": ACME, "kind": "organization", "name": "Acme"},
                ]
            ),
            NOW,
        )
        report = import_relationships(
            conn,
            numbered(
                [
                    {"from": ALICE, "to": BOB, "kind": "spouse"},
                    {
                        "from": BOB,
                        "to": ACME,
                        "kind": "legal_representative",
                        "weight": "1",
                        "valid_from": "2020-01-01",
                        "valid_to": "",
                    },
                    {"from": ACME, "to": ALICE, "kind": "legal_representative"},
                    {"from": ALICE, "to": "ext:nobody", "kind": "contact"},
                    {"from": ALICE, "to": ALICE, "kind": "contact"},
                    {"from": ALICE, "to": BOB, "kind": "cousin"},
                    {"from": ALICE, "to": BOB, "kind": "contact", "weight": "-1"},
                    {
                        "from": ALICE,
                        "to": BOB,
                        "kind": "contact",
                        "valid_from": "2020-01-01",
                        "valid_to": "2019-01-01",
                    },
                    {"from": ALICE, "to": BOB, "kind": "spouse"},
                ]
            ),
            NOW,
        )
    found = {(r.line, r.field): r.reason for r in report.rejected}
    assert report.accepted == 2
    assert report.unchanged == 1  # the repeated spouse edge
    assert "starts at a person, not an organization" in found[(4, "from")]
    assert "ends at an organization or an authority, not a person" in found[(4, "to")]
    assert "not registered" in found[(5, "to")]
    assert "related to itself" in found[(6, "to")]
    assert "'cousin' is not one of" in found[(7, "kind")]
    assert "must be above 0" in found[(8, "weight")]
    assert "after valid_from" in found[(9, "valid_to")]


def test_relationships_are_versioned_not_edited(engine: sa.Engine) -> None:
    from socialcredit.store.snapshot import load_registry

    with engine.begin() as conn:
        import_subjects(
            conn,
            numbered(
                [
                    {"identifier": ALICE, "kind": "person", "name": "Alice"},
                    {"identifier": BOB, "kind": "person", "name": "Bob"},
                ]
            ),
            NOW,
        )
        first = import_relationships(
            conn,
            numbered(
                [
                    {"from": ALICE, "to": BOB, "kind": "spouse", "valid_from": "2010-01-01"},
                    {
                        "from": ALICE,
                        "to": BOB,
                        "kind": "spouse",
                        "valid_from": "2010-01-01",
                        "weight": "2",
                    },
                ]
            ),
            NOW,
        )
        assert first.accepted == 1
        assert "on line 2 of this file with another weight" in first.rejected[0].reason
        ended = import_relationships(
            conn,
            numbered(
                [
                    {
                        "from": ALICE,
                        "to": BOB,
                        "kind": "spouse",
                        "valid_from": "2010-01-01",
                        "valid_to": "2025-12-31",
                    },
                ]
            ),
            NOW,
        )
        assert (ended.accepted, ended.unchanged) == (1, 0)
        again = import_relationships(
            conn,
            numbered(
                [
                    {
                        "from": ALICE,
                        "to": BOB,
                        "kind": "spouse",
                        "valid_from": "2010-01-01",
                        "valid_to": "2025-12-31",
                    },
                ]
            ),
            NOW,
        )
        assert (again.accepted, again.unchanged) == (0, 1)
        versions = load_registry(conn).relationships.to_pylist()
    assert [v["valid_to_us"] is None for v in versions] == [True, False]
