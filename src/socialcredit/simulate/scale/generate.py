"""`generate_lake()`: a synthetic population straight into the lake, chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa

from socialcredit.errors import InvalidInput
from socialcredit.lake.layout import INSTANT, Lake
from socialcredit.lake.write import append_records, write_registry
from socialcredit.simulate.records import SOURCES
from socialcredit.simulate.scale.people import BLOCK, Shape, build_block
from socialcredit.simulate.scale.records import block_records
from socialcredit.timeutil import now

Progress = Callable[[int, int], None]  # people done, records written so far


@dataclass(frozen=True)
class ScaleConfig:
    people: int
    orgs: int
    years: int = 2
    seed: int = 7
    until: date = date(2026, 11, 1)
    chunk: int = 32 * BLOCK  # people built in memory at once (a multiple of BLOCK)


@dataclass(frozen=True)
class Generated:
    people: int
    orgs: int
    relationships: int
    records: int
    files: int


def _check(config: ScaleConfig, lake: Lake) -> None:
    if config.people < 1:
        raise InvalidInput("people", "must be at least 1")
    if config.orgs < 0:
        raise InvalidInput("orgs", "cannot be negative")
    if not 1 <= config.years <= 50:
        raise InvalidInput("years", "must lie between 1 and 50")
    if config.chunk < BLOCK or config.chunk % BLOCK:
        raise InvalidInput("chunk", f"must be a positive multiple of {BLOCK:,} people")
    if config.until > now().date():
        raise InvalidInput("until", f"{config.until} is in the future")
    taken = [name for name in ("records", "subjects", "relationships") if lake.files(name)]
    if taken:
        raise InvalidInput(
            "lake", f"{lake.root} already holds {', '.join(taken)}; generate into an empty lake"
        )


def generate_lake(config: ScaleConfig, lake: Lake, progress: Progress | None = None) -> Generated:
    """Write subjects, relationships, sources and records of a synthetic population.

    Each chunk of `config.chunk` people is built, written (atomically, file by file) and
    dropped before the next, so memory depends on the chunk size, not on the population.
    """
    _check(config, lake)
    shape = Shape(config.people, config.orgs, config.seed, config.until)
    registered = pa.scalar(
        int(
            datetime(
                config.until.year, config.until.month, config.until.day, tzinfo=UTC
            ).timestamp()
            * 1_000_000
        )
        - config.years * 365 * 86_400_000_000,
        pa.int64(),
    )
    write_registry(lake, "sources", _sources(), "sources")
    per_chunk = config.chunk // BLOCK
    people = orgs = edges = records = files = 0
    for first in range(0, shape.blocks, per_chunk):
        blocks = [build_block(shape, b) for b in range(first, min(first + per_chunk, shape.blocks))]
        part = f"part-{first:07d}"
        subjects = pa.concat_tables([b.subjects for b in blocks])
        n = subjects.num_rows
        subjects = subjects.append_column(
            "registered_at", pa.array(np.full(n, registered.as_py()), pa.int64()).cast(INSTANT)
        )
        write_registry(lake, "subjects", subjects, part)
        relationships = pa.concat_tables([b.relationships for b in blocks])
        write_registry(lake, "relationships", _edges(relationships, registered.as_py()), part)
        table = pa.concat_tables(
            [
                block_records(
                    np.random.default_rng([config.seed, first + i, 1]),
                    block,
                    config.years,
                    config.until,
                )
                for i, block in enumerate(blocks)
            ]
        )
        files += 2 + len(append_records(lake, table, part))
        people += sum(len(b.age) for b in blocks)
        orgs += sum(len(b.org_sid) for b in blocks)
        edges += relationships.num_rows
        records += table.num_rows
        del blocks, subjects, relationships, table
        if progress:
            progress(people, records)
    return Generated(people, orgs, edges, records, files + 1)


def _edges(relationships: pa.Table, registered_us: int) -> pa.Table:
    n = relationships.num_rows
    return pa.table(
        {
            "src": relationships["src"],
            "dst": relationships["dst"],
            "kind": relationships["kind"],
            "weight": pa.array(np.ones(n), pa.float64()),
            "valid_from": relationships["valid_from_us"].cast(INSTANT),
            "valid_to": relationships["valid_to_us"].cast(INSTANT),
            "recorded_at": pa.array(np.full(n, registered_us), pa.int64()).cast(INSTANT),
        }
    )


def _sources() -> pa.Table:
    return pa.table(
        {
            "source": [s[0] for s in SOURCES],
            "name": [s[2] for s in SOURCES],
            "kind": [s[1] for s in SOURCES],
            "reliability": pa.array([1.0] * len(SOURCES), pa.float64()),
            "types": pa.array([s[3] for s in SOURCES], pa.list_(pa.string())),
        }
    )
