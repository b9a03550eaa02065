"""The engine's inputs: the record log and the registry as Arrow tables, bound to an engine.

`Inputs` is engine-neutral (plain Arrow). `EngineData` registers it with DuckDB through Ibis,
`engine.spark.SparkData` with Spark; every step of the evaluation plan is an Ibis expression over
`PlanData.table`, so the one plan runs on both. Instants are integer microseconds since the epoch.
"""

from __future__ import annotations

import dataclasses
import sys
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.atomic import ROW_GROUP
from socialcredit.engine.overrides import OVERRIDES
from socialcredit.engine.ranges import subject_ranges, within

SUBJECTS = pa.schema(
    [
        ("sid", pa.int64()),
        ("kind", pa.string()),
        ("region", pa.string()),
        ("born", pa.int64()),
        ("registered_us", pa.int64()),
    ]
)
RELATIONSHIPS = pa.schema(
    [
        ("eid", pa.int64()),
        ("src", pa.int64()),
        ("dst", pa.int64()),
        ("kind", pa.string()),
        ("weight", pa.float64()),
        ("valid_from_us", pa.int64()),
        ("valid_to_us", pa.int64()),
        ("recorded_us", pa.int64()),
    ]
)
SOURCES = pa.schema([("source", pa.string()), ("reliability", pa.float64())])
RECORDS = pa.schema(
    [
        ("rid", pa.int64()),
        ("source", pa.string()),
        ("record_id", pa.string()),
        ("sid", pa.int64()),
        ("type", pa.string()),
        ("occurred_us", pa.int64()),
        ("received_us", pa.int64()),
        ("value", pa.float64()),
    ]
)
STATUS = pa.schema(
    [("rid", pa.int64()), ("status", pa.string()), ("at_us", pa.int64()), ("seq", pa.int64())]
)
SUPERSESSIONS = pa.schema(
    [("source", pa.string()), ("record_id", pa.string()), ("at_us", pa.int64())]
)
# Network propagation runs in SciPy (in memory) up to this many live edges, as joins above it
# (out of core); both give the same bits. At 1.07 M edges the joins were already faster on
# DuckDB (0.83 s against 1.24 s, docs/scale.md), so SciPy is kept only for small graphs, where
# it saves the join plans' fixed cost (tests, subset refreshes, explanations).
SPARSE_EDGE_LIMIT = 1_000_000
LOG = "_log"  # the whole record log held beside the inputs (`EngineData.hold_log`)

SCHEMAS: dict[str, pa.Schema] = {
    "subjects": SUBJECTS,
    "relationships": RELATIONSHIPS,
    "sources": SOURCES,
    "records": RECORDS,
    "status": STATUS,
    "supersessions": SUPERSESSIONS,
}
# Tables the plan reads in Python, never registered with an engine: the reviewers' overrides
# (few rows, human decisions; see engine.overrides). Lake runs have none.
LOCAL_SCHEMAS: dict[str, pa.Schema] = {"overrides": OVERRIDES}


@dataclass(frozen=True)
class Inputs:
    """Everything `evaluate` reads, as Arrow tables with the schemas above.

    `status` is the log of record status changes (retractions, disputes, supersessions); a record
    with no change is active. `supersessions` names records superseded at an instant by
    (source, record_id): the record lake has no status log, a lake record is superseded by a
    later one that names it in `supersedes` (empty for the SQL store, whose log says it).
    `relationships` holds every version of every edge (a re-import that ends or reweighs an
    edge adds a version). `records` may be the whole log or only the
    records of the subjects an evaluation needs (see `engine.dependencies`).
    """

    subjects: pa.Table
    relationships: pa.Table
    sources: pa.Table
    records: pa.Table
    status: pa.Table
    supersessions: pa.Table = field(default_factory=SUPERSESSIONS.empty_table)
    overrides: pa.Table = field(default_factory=OVERRIDES.empty_table)

    @classmethod
    def from_rows(cls, **tables: Iterable[Mapping[str, Any]]) -> Inputs:
        """Build from lists of dicts (tests and small fixtures); missing tables are empty."""
        out = {}
        for name, schema in (SCHEMAS | LOCAL_SCHEMAS).items():
            rows = list(tables.pop(name, []))
            out[name] = pa.Table.from_pylist(rows, schema=schema)
        if tables:
            raise TypeError(f"unknown tables: {sorted(tables)}")
        return cls(**out)

    def __post_init__(self) -> None:
        for name, schema in (SCHEMAS | LOCAL_SCHEMAS).items():
            table = getattr(self, name)
            if not table.schema.equals(schema):
                object.__setattr__(self, name, table.select(schema.names).cast(schema))


class PlanData(Protocol):
    """What the evaluation plan needs of an engine: `EngineData` (DuckDB), `SparkData`."""

    inputs: Inputs
    sparse_edge_limit: int
    subject_range: int  # sum records per this many subjects (0: all at once)

    @property
    def engine(self) -> str: ...

    @property
    def has_supersessions(self) -> bool: ...

    @property
    def has_edge_versions(self) -> bool: ...

    @property
    def has_status(self) -> bool: ...

    def supersessions(self) -> ibis.Table | None: ...

    def table(self, name: str) -> ibis.Table: ...

    def replace_records(self, records: pa.Table) -> None: ...

    def record_types(self) -> list[str]: ...

    def cache(self, table: ibis.Table) -> ibis.Table: ...

    def write_parquet(self, table: ibis.Table, path: Path) -> None: ...


_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_UNITS |= {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _bytes(setting: str) -> int:
    """DuckDB's memory_limit setting as it shows it ('9.3 GiB') in bytes."""
    number, unit = setting.split()
    return int(float(number) * _UNITS[unit])


def _drop_table(con: Any, name: str) -> None:
    try:
        con.drop_table(name, force=True)
    except Exception:
        if not sys.is_finalizing():  # at exit the connection may be gone first
            raise


@ibis.udf.scalar.builtin(name="hash")  # type: ignore[untyped-decorator]
def _edge_key_hash(src: int, dst: int, kind: str, valid_from_us: int) -> dt.UInt64:
    """DuckDB's 64-bit hash of the four values (Ibis's `hash()` of a struct adds two casts
    that cost half as much again)."""


def check_extra(extra: Mapping[str, str]) -> None:
    unknown = sorted(set(extra) - set(SCHEMAS))
    if unknown:
        raise TypeError(f"unknown tables: {unknown}")


class Registered:
    """What the engines' data share once their tables are registered (`table` is theirs)."""

    inputs: Inputs
    extra: Mapping[str, str]
    subject_range: int
    _types: list[str] | None
    _supersessions: ibis.Table | bool | None
    _edge_versions: bool | None

    def table(self, name: str) -> ibis.Table:
        raise NotImplementedError

    @property
    def has_supersessions(self) -> bool:
        return self.supersessions() is not None

    def supersessions(self) -> ibis.Table | None:
        """The supersessions, materialized once (they are few), or None when there are none.

        Materialized so that the engine knows their number: an anti-join of the records with a
        view it cannot size, DuckDB built its hash table on the records side (50 million rows,
        21 s at medium size) to probe it with none. None skips the anti-join and the read of
        `record_id` it needs."""
        if self._supersessions is None:
            if "supersessions" not in self.extra and not self.inputs.supersessions.num_rows:
                self._supersessions = False
            else:
                table = self.cache(self.table("supersessions"))
                empty = not int(table.count().to_pyarrow().as_py())
                self._supersessions = False if empty else table
        return None if self._supersessions is False else self._supersessions

    @property
    def has_edge_versions(self) -> bool:
        """Whether any edge (src, dst, kind, valid_from) was recorded more than once.

        Checked once (one count of distinct keys): without versions every edge is its own
        latest version, and `live_edges` skips the window that picks it (twice the time of
        the check on 17 million edges)."""
        if self._edge_versions is None:
            key = ["src", "dst", "kind", "valid_from_us"]
            if "relationships" not in self.extra:
                # In memory (the store's, a service request's): Arrow answers, no engine job.
                e = self.inputs.relationships
                keys = e.group_by(key).aggregate([]).num_rows
                self._edge_versions = e.num_rows != keys
            else:
                self._edge_versions = self._edge_versions_in_engine(key)
        return self._edge_versions

    def _edge_versions_in_engine(self, key: list[str]) -> bool:
        """Rows against distinct keys, per range of `src` at scale: at province size one
        distinct count would hold 325 million keys (13 GB of groups, spilled)."""
        t = self.table("relationships")
        size = 4 * self.subject_range  # keys are about 40 bytes: 64 million, about 2.5 GB
        parts = subject_ranges(t.select(sid=t.src), size)
        chunks = [t.filter(within(t.src, p)) for p in parts] if parts else [t]
        return any(self._repeats(rows, key) for rows in chunks)

    def _repeats(self, rows: ibis.Table, key: list[str]) -> bool:
        """Whether `rows` holds fewer distinct `key` values than rows."""
        count = int(rows.count().to_pyarrow().as_py())
        return count != int(rows.select(*key).distinct().count().to_pyarrow().as_py())

    @property
    def has_status(self) -> bool:
        """Whether any record has a status change (the lake's records never do)."""
        return "status" in self.extra or self.inputs.status.num_rows > 0

    def cache(self, table: ibis.Table) -> ibis.Table:
        """Materialize a stage that later ones read more than once."""
        return table.cache()

    def record_types(self) -> list[str]:
        """The distinct record types in the log (a small list; the type map is built from it)."""
        if self._types is None:
            types = self.table("records").select("type").distinct().to_pyarrow()
            self._types = sorted(types.column("type").to_pylist())
        return self._types


@dataclass
class EngineData(Registered):
    """Inputs registered with an Ibis backend; build once, evaluate many policies.

    `extra` adds rows to a table without loading them: per table name, a DuckDB query with the
    table's schema (e.g. over the Parquet files of the record lake, see `socialcredit.lake`).
    That table then becomes a view, the in-memory inputs UNION ALL the query, and DuckDB streams
    it (out of core, within `memory_limit`, spilling to `temp_directory`).
    """

    inputs: Inputs
    threads: int | None = None
    memory_limit: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    temp_directory: str | None = None
    spill_limit: str | None = None  # DuckDB's max_temp_directory_size
    sparse_edge_limit: int = SPARSE_EDGE_LIMIT
    subject_range: int = 0  # the record lake sets SUBJECT_RANGE (see _Plan._sums)
    network_blocks: bool = True  # False: a full evaluation's hops too are joins (see network)
    con: Any = field(init=False)
    _types: list[str] | None = field(default=None, init=False)
    _supersessions: ibis.Table | bool | None = field(default=None, init=False)
    _edge_versions: bool | None = field(default=None, init=False)
    _tables: dict[str, ibis.Table] = field(default_factory=dict, init=False)
    # The in-memory network edges of past evaluations, by what they were built from
    # (`engine.network.graph_key`); a few entries at most.
    graph_memo: dict[Any, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        options: dict[str, Any] = {}
        if self.threads:
            options["threads"] = self.threads
        if self.memory_limit:
            options["memory_limit"] = self.memory_limit
        if self.temp_directory:
            options["temp_directory"] = self.temp_directory
        if self.spill_limit:
            options["max_temp_directory_size"] = self.spill_limit
        check_extra(self.extra)
        self.con = ibis.duckdb.connect(**options)
        for name, schema in SCHEMAS.items():
            if name not in self.extra:
                self.con.create_table(name, obj=getattr(self.inputs, name), temp=True)
                continue
            self.con.create_table(f"_{name}_inputs", obj=getattr(self.inputs, name), temp=True)
            columns = ", ".join(f'"{c}"' for c in schema.names)
            # The names and queries are the engine's and the lake's own, not user text.
            view = (
                f"CREATE TEMP VIEW {name} AS SELECT {columns} FROM _{name}_inputs "  # noqa: S608
                f"UNION ALL SELECT {columns} FROM ({self.extra[name]})"
            )
            self.con.raw_sql(view)

    @property
    def engine(self) -> str:
        return "duckdb"

    def table(self, name: str) -> ibis.Table:
        """The engine's table `name`, looked up once: Ibis asks DuckDB for its schema on each
        lookup (about a millisecond, some forty times per evaluation). The tables keep their
        names and schemas when their rows are swapped (`replace_inputs`, `replace_records`),
        so the expression stays valid."""
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = self.con.table(name)
        return found

    def cache(self, table: ibis.Table) -> ibis.Table:
        """Materialize a stage that later ones read more than once, as a temporary table that
        is dropped once nothing refers to the table returned.

        Not Ibis's `Table.cache`: that keeps the expression it was given alive as long as the
        result, and with it every cached table the expression read, so an evaluation held every
        stage it had ever cached until it ended (the category sums under the base values under
        the scores: 20 GB of spill at province size)."""
        name = ibis.util.gen_name("stage")
        cached = self.con.create_table(name, table, schema=table.schema(), temp=True)
        weakref.finalize(cached.op(), _drop_table, self.con, name)
        return cached

    def _repeats(self, rows: ibis.Table, key: list[str]) -> bool:
        """Counts distinct 64-bit hashes of the keys, in the scan that counts the rows: about
        a third faster than distinct keys (17.6 M edges: 1.07 s against 1.65 s). Keys that collide
        are counted once, so a collision can only say "repeats" where there are none: the
        evaluation then takes the window that picks the latest version, which is exact either
        way. (Spark's `hash` has 32 bits and would nearly always collide at scale.)"""
        hashed = _edge_key_hash(*(rows[c] for c in key))
        counts = rows.aggregate(rows=rows.count(), keys=hashed.nunique()).to_pyarrow()
        return bool(counts["rows"][0].as_py() != counts["keys"][0].as_py())

    @contextmanager
    def lend(self, nbytes: int) -> Iterator[None]:
        """Lower DuckDB's memory limit by `nbytes` (to a quarter of it at least) while Python
        holds that much (the network's blocks), so that the process stays within the limit it
        was given; DuckDB spills what no longer fits. Restored after. Where DuckDB cannot free
        enough (pinned buffers), the limit stays as it was."""
        setting = self.con.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
        limit = _bytes(setting)
        try:
            self.con.raw_sql(f"SET memory_limit = '{max(limit - nbytes, limit // 4)}B'")
        except duckdb.OutOfMemoryException:
            yield
            return
        try:
            yield
        finally:
            if self.memory_limit:
                self.con.raw_sql(f"SET memory_limit = '{self.memory_limit}'")
            else:
                self.con.raw_sql("RESET memory_limit")

    def write_parquet(self, table: ibis.Table, path: Path) -> None:
        """Write `table`'s rows, in its order, to the Parquet file `path`: DuckDB's `COPY`,
        which encodes and compresses row groups on all threads and never hands a row to
        Python (the batch-by-batch write from Python took 216 s of 26 minutes at province
        size)."""
        self.con.to_parquet(table, path, compression="zstd", row_group_size=ROW_GROUP)

    def replace_inputs(self, inputs: Inputs) -> None:
        """Swap in other inputs, re-registering only the tables that are other objects (a
        registry kept current by appending: `outcomes.live_data`), and forgetting what was learnt
        of the old ones."""
        old, self.inputs = self.inputs, inputs
        for name in SCHEMAS:
            if getattr(inputs, name) is getattr(old, name):
                continue
            target = f"_{name}_inputs" if name in self.extra else name
            self.con.create_table(target, obj=getattr(inputs, name), temp=True, overwrite=True)
        self._types = None
        self._supersessions = None
        self._edge_versions = None

    def replace_records(self, records: pa.Table) -> None:
        """Swap in another record table (e.g. only the records a subset evaluation needs),
        keeping the registry already registered."""
        self.inputs = dataclasses.replace(self.inputs, records=records)
        name = "_records_inputs" if "records" in self.extra else "records"
        self.con.create_table(name, obj=self.inputs.records, temp=True, overwrite=True)
        self._types = None
        if "records" not in self.extra:  # the types are those in hand: no query for them
            types = pc.unique(self.inputs.records["type"]).drop_null()
            self._types = sorted(types.to_pylist())

    def hold_log(self, records: pa.Table) -> None:
        """Keep `records` (a whole record log, RECORDS schema) in the engine beside the
        inputs, as the table `_log`, from which `records_of` picks a subset evaluation's
        records without reading the store (`outcomes.live_data`)."""
        self.con.create_table(LOG, obj=records.cast(RECORDS), temp=True, overwrite=True)

    def append_log(self, records: pa.Table) -> None:
        """Append rows (with ids past those held) to the log held by `hold_log`."""
        if not records.num_rows:
            return
        raw = self.con.con
        raw.register("_log_rows", records.cast(RECORDS))
        try:
            raw.execute(f"INSERT INTO {LOG} SELECT * FROM _log_rows")  # noqa: S608 (our names)
        finally:
            raw.unregister("_log_rows")

    def blank_log_values(self, rids: list[int]) -> None:
        """Clear the `value` of these records in the held log (the store purged them: their
        value is gone there too, and a purged record never counts)."""
        if not rids:
            return
        raw = self.con.con
        raw.register("_log_rids", pa.table({"rid": pa.array(rids, pa.int64())}))
        try:
            raw.execute(
                f"UPDATE {LOG} SET value = NULL WHERE rid IN (SELECT rid FROM _log_rids)"  # noqa: S608
            )
        finally:
            raw.unregister("_log_rids")

    def records_of(self, subjects: Sequence[int]) -> None:
        """Make the `records` table the held log's records of `subjects` (a semi-join in the
        engine, in id order, as `store.snapshot.load_records` reads them from the store)."""
        assert "records" not in self.extra, "a lake's records are not held"
        raw = self.con.con
        ids = pa.table({"sid": pa.array(sorted({int(s) for s in subjects}), pa.int64())})
        raw.register("_wanted_sids", ids)
        try:
            picked = raw.sql(
                f"SELECT l.* FROM {LOG} l SEMI JOIN _wanted_sids w ON l.sid = w.sid "  # noqa: S608
                "ORDER BY l.rid"
            ).to_arrow_table()
        finally:
            raw.unregister("_wanted_sids")
        self.replace_records(picked)
