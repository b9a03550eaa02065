"""The engine's inputs on Spark: the same tables, bound to Ibis's PySpark backend.

`SparkData` is to Spark what `EngineData` is to DuckDB: every table of `data.SCHEMAS` is a
temporary view of the session (names prefixed per instance, so that several can share one
session), and `evaluate` runs its one plan over them. `extra` adds rows the way the DuckDB
engine does: per table, a Spark SQL query in the table's schema (the record lake's Parquet
files, read by Spark itself: see `socialcredit.lake.spark`). The network is always propagated as
joins (`engine.network_joins`), in the cluster.

pyspark is an optional dependency (the `spark` extra); importing this module does not need it,
`spark_session` and `SparkData` do.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from socialcredit.atomic import ROW_GROUP
from socialcredit.engine.data import SCHEMAS, Inputs, Registered, check_extra
from socialcredit.errors import InvalidInput

LOCAL = "local[2]"


def spark_missing() -> str | None:
    """Why Spark cannot run here (pyspark or Java absent), or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'socialcredit[spark]')"
    java_home = os.environ.get("JAVA_HOME", "")
    if not os.path.exists(os.path.join(java_home, "bin", "java")) and not shutil.which("java"):
        return "Java is not installed (Spark needs Java 17 or later)"
    return None


def spark_session(
    master: str | None = None, config: Mapping[str, str] | None = None, app: str = "scs"
) -> Any:
    """A SparkSession on `master` (default: local[2]); reuses the running one if any.

    Local mode gets few shuffle partitions (the default 200 only cost time on one machine)
    and no UI. On a cluster, the cluster's own settings hold unless `config` overrides them.
    """
    problem = spark_missing()
    if problem:
        raise InvalidInput("engine", f"cannot run Spark: {problem}")
    from pyspark.sql import SparkSession

    chosen = master or LOCAL
    builder = SparkSession.builder.appName(app).master(chosen)
    defaults = {"spark.sql.session.timeZone": "UTC"}
    if chosen.startswith("local"):
        defaults |= {
            "spark.sql.shuffle.partitions": "4",
            "spark.ui.enabled": "false",
            "spark.driver.memory": "2g",
        }
    for key, value in (defaults | dict(config or {})).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@dataclass
class SparkData(Registered):
    """Inputs registered with a SparkSession through Ibis; build once, evaluate many policies."""

    inputs: Inputs
    session: Any  # pyspark.sql.SparkSession
    extra: Mapping[str, str] = field(default_factory=dict)
    sparse_edge_limit: int = 0  # always joins: the edges stay in the cluster
    subject_range: int = 0  # Spark partitions its aggregations itself
    con: Any = field(init=False)
    prefix: str = field(init=False)
    _types: list[str] | None = field(default=None, init=False)
    _supersessions: ibis.Table | bool | None = field(default=None, init=False)
    _edge_versions: bool | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        check_extra(self.extra)
        from socialcredit.engine.spark_backend import connect

        self.con = connect(self.session)
        self.prefix = f"scs_{uuid.uuid4().hex[:10]}_"
        for name, schema in SCHEMAS.items():
            if name not in self.extra:
                self._register(self.view(name), getattr(self.inputs, name))
                continue
            self._register(self.view(f"{name}_inputs"), getattr(self.inputs, name))
            columns = ", ".join(f"`{c}`" for c in schema.names)
            query = self.extra[name].format(prefix=self.prefix)
            # The names and queries are the engine's and the lake's own, not user text.
            self.session.sql(
                f"SELECT {columns} FROM {self.view(f'{name}_inputs')} "  # noqa: S608
                f"UNION ALL SELECT {columns} FROM ({query})"
            ).createOrReplaceTempView(self.view(name))

    def view(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def _register(self, name: str, table: pa.Table) -> None:
        self.session.createDataFrame(table).createOrReplaceTempView(name)

    @property
    def engine(self) -> str:
        return "spark"

    def table(self, name: str) -> ibis.Table:
        return self.con.table(self.view(name))

    def write_parquet(self, table: ibis.Table, path: Path) -> None:
        """Write `table`'s rows, in its order, to the Parquet file `path` on the driver. They
        are collected to it whole first (Ibis's PySpark backend has no streaming reader), see
        docs/scale.md, "Spark"."""
        pq.write_table(table.to_pyarrow(), path, compression="zstd", row_group_size=ROW_GROUP)

    def replace_records(self, records: pa.Table) -> None:
        """Swap in another record table, keeping the registry already registered."""
        self.inputs = dataclasses.replace(self.inputs, records=records)
        name = "records_inputs" if "records" in self.extra else "records"
        self._register(self.view(name), self.inputs.records)
        self._types = None

    def close(self) -> None:
        """Drop this instance's views (the session stays up for others)."""
        for name in SCHEMAS:
            for view in (self.view(name), self.view(f"{name}_inputs")):
                self.session.catalog.dropTempView(view)


ENGINES = ("duckdb", "spark")


def check_engine(engine: str, spark_master: str | None) -> None:
    """Refuse an unknown engine, and a Spark master without Spark."""
    if engine not in ENGINES:
        raise InvalidInput("engine", f"{engine!r} is not an engine ({', '.join(ENGINES)})")
    if spark_master and engine != "spark":
        raise InvalidInput("spark-master", "is only for --engine spark")
