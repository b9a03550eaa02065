# ruff: noqa: S608  (the SQL is built from the lake's own folder paths, quoted by _quote)
"""The lake as engine inputs: DuckDB views over its Parquet files, added to the store's tables.

Nothing is loaded: `EngineData.extra` turns each table into a view (the store's rows UNION ALL
`read_parquet` of the lake), and DuckDB streams the files when a plan runs, within its memory
limit, spilling to disk past it. Only visible `*.parquet` files are read (see `write`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from socialcredit.engine.data import EngineData, Inputs
from socialcredit.errors import InvalidInput, ResourceLimit
from socialcredit.lake.layout import Lake

DEFAULT_MEMORY_LIMIT = "10GB"
# Category sums per this many subjects: about 1.5 GB of groups within the 10 GB limit.
SUBJECT_RANGE = 16_000_000


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _scan(lake: Lake, name: str) -> str:
    hive = ", hive_partitioning = true" if name == "records" else ""
    return f"read_parquet({_quote(lake.glob(name))}{hive})"


def lake_queries(lake: Lake) -> dict[str, str]:
    """Per engine table, the query that reads the lake's rows in the engine's schema.

    Lake records have no row id (rid is null: the SQL status log cannot name them); a lake
    record is superseded by a later one of its source that names it in `supersedes`.
    """
    queries: dict[str, str] = {}
    if lake.files("records"):
        scan = _scan(lake, "records")
        queries["records"] = (
            "SELECT CAST(NULL AS BIGINT) AS rid, source, record_id, sid, type, "
            "epoch_us(occurred_at) AS occurred_us, epoch_us(received_at) AS received_us, value "
            f"FROM {scan}"
        )
        queries["supersessions"] = (
            "SELECT source, supersedes AS record_id, epoch_us(received_at) AS at_us "
            f"FROM {scan} WHERE supersedes IS NOT NULL"
        )
    if lake.files("subjects"):
        queries["subjects"] = (
            "SELECT sid, kind, region, born, epoch_us(registered_at) AS registered_us "
            f"FROM {_scan(lake, 'subjects')}"
        )
    if lake.files("relationships"):
        queries["relationships"] = (
            "SELECT CAST(NULL AS BIGINT) AS eid, src, dst, kind, weight, "
            "epoch_us(valid_from) AS valid_from_us, epoch_us(valid_to) AS valid_to_us, "
            f"epoch_us(recorded_at) AS recorded_us FROM {_scan(lake, 'relationships')}"
        )
    if lake.files("sources"):
        # A source registered in the store too is the store's (its reliability holds).
        queries["sources"] = (
            f"SELECT source, reliability FROM {_scan(lake, 'sources')} "
            "WHERE source NOT IN (SELECT source FROM _sources_inputs)"
        )
    return queries


def lake_data(
    lake: Lake,
    inputs: Inputs,
    threads: int | None = None,
    memory_limit: str | None = None,
    spill_limit: str | None = None,
) -> EngineData:
    """Engine data over the lake and `inputs` (the store's registry and records, or empty).

    DuckDB spills to LAKE/.spill past `memory_limit`, up to `spill_limit` (default: half the
    disk space free there now, where DuckDB's own default, 90%, can leave the machine a full
    disk); past that, the run fails with ResourceLimit (see `spill_guard`)."""
    if not lake.root.is_dir():
        raise InvalidInput("lake", f"there is no lake at {lake.root}")
    spill = lake.root / ".spill"
    spill.mkdir(exist_ok=True)
    data = EngineData(
        inputs,
        threads=threads,
        memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT,
        extra=lake_queries(lake),
        temp_directory=str(spill),
        spill_limit=spill_limit or f"{shutil.disk_usage(spill).free // 2 // 2**20}MB",
        subject_range=SUBJECT_RANGE,
    )
    if "subjects" in data.extra and inputs.subjects.num_rows:
        _check_disjoint(data, lake.root)
    return data


def _check_disjoint(data: EngineData, root: Path) -> None:
    """The lake's registry and the store's cannot both number the same subject."""
    try:
        shared = data.con.raw_sql(
            "SELECT count(*) FROM _subjects_inputs s "
            f"SEMI JOIN ({data.extra['subjects']}) l ON s.sid = l.sid"
        ).fetchone()[0]
    except duckdb.Error as error:
        raise InvalidInput("lake", f"cannot read the subjects of {root} ({error})") from None
    if shared:
        raise InvalidInput(
            "lake",
            f"{root} has a registry of its own and {shared:,} of its subject ids are also the "
            "store's; evaluate it with an empty store, or ingest its records through the store",
        )


@contextmanager
def spill_guard(data: EngineData) -> Iterator[None]:
    """Turn DuckDB running out of memory and spill space into a ResourceLimit that says which
    limits held and how to raise them."""
    try:
        yield
    except duckdb.OutOfMemoryException as error:
        raise ResourceLimit(
            f"the evaluation needed more than its memory limit ({data.memory_limit}) and spill "
            f"limit ({data.spill_limit} in {data.temp_directory}); raise "
            "SCS_DUCKDB_MEMORY_LIMIT or SCS_DUCKDB_SPILL_LIMIT, or free disk space "
            f"(DuckDB: {str(error).splitlines()[0]})"
        ) from None
