"""The synthetic city: valid identifiers, sensible structure, deterministic, any size."""

from __future__ import annotations

from collections import Counter

import pytest

from socialcredit.identifiers import parse
from socialcredit.ingest.registry import ENDPOINTS
from socialcredit.simulate.population import CityConfig, build_city
from socialcredit.simulate.records import SOURCES, generate_records


@pytest.mark.parametrize(
    ("people", "orgs", "authorities"), [(10, 1, 1), (60, 3, 1), (3000, 150, 20)]
)
def test_any_size_generates(people: int, orgs: int, authorities: int) -> None:
    city = build_city(CityConfig(people=people, orgs=orgs, authorities=authorities))
    subjects = city.subjects()
    assert subjects.num_rows == people + orgs + authorities
    generate_records(city)


def test_identifiers_are_valid_unique_and_of_the_right_kind() -> None:
    city = build_city(CityConfig(people=3000, orgs=150, authorities=20))
    rows = city.subjects().to_pylist()
    assert len({r["identifier"] for r in rows}) == len(rows)
    kinds = {}
    for row in rows:
        ident = parse(row["identifier"])
        assert str(ident) == row["identifier"]
        assert row["kind"] in ident.subject_kinds
        kinds[row["identifier"]] = row["kind"]
    for edge in city.relationships.to_pylist():
        starts, ends = ENDPOINTS[edge["kind"]]
        assert kinds[edge["from"]] in starts
        assert kinds[edge["to"]] in ends
        assert edge["from"] != edge["to"]
    counts = Counter(e["kind"] for e in city.relationships.to_pylist())
    assert counts["legal_representative"] == 150
    assert counts["guardian"] > 0
    assert counts["spouse"] > 0


def test_records_are_deterministic_and_from_registered_sources() -> None:
    config = CityConfig(people=800, orgs=40, authorities=3, seed=11)
    first = generate_records(build_city(config))
    second = generate_records(build_city(config))
    assert first.keys() == second.keys()
    assert all(first[k].equals(second[k]) for k in first)
    other = generate_records(build_city(CityConfig(people=800, orgs=40, authorities=3, seed=12)))
    assert not all(other[k].equals(first[k]) for k in first if k in other)
    known = {source for source, *_ in SOURCES}
    assert set(first) <= known
    for table in first.values():
        assert len(set(table["record_id"].to_pylist())) == table.num_rows
