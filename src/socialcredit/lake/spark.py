# ruff: noqa: S608  (the SQL names the lake's own views, built here)
"""The lake as Spark inputs: Spark reads the lake's Parquet itself, wherever the lake lives.

The same layout and schemas as `lake.read` (DuckDB): `records/year=YYYY/month=MM/*.parquet`
(Spark discovers the partitions), `subjects/`, `relationships/`, `sources/`. Spark skips files
whose names start with `.` or `_`, so the writers' hidden temporary files are never read.
`root` is a local folder or any URL Spark's Hadoop file systems read: `s3a://bucket/lake` with
the hadoop-aws package on the classpath (see docs/scale.md), `hdfs://…`, `abfss://…`.
"""

from __future__ import annotations

import uuid
from typing import Any

from socialcredit.engine.data import Inputs
from socialcredit.engine.spark import SparkData
from socialcredit.errors import InvalidInput

TABLES = ("records", "subjects", "relationships", "sources")


def _read(session: Any, root: str, name: str) -> Any | None:
    """The table's files as a DataFrame, or None when the lake has none."""
    from pyspark.errors import AnalysisException

    try:
        return session.read.parquet(f"{root.rstrip('/')}/{name}")
    except AnalysisException as error:
        # PATH_NOT_FOUND (no folder) or UNABLE_TO_INFER_SCHEMA (a folder with no files)
        if error.getCondition() in ("PATH_NOT_FOUND", "UNABLE_TO_INFER_SCHEMA"):
            return None
        raise


def spark_lake_queries(session: Any, root: str) -> dict[str, str]:
    """Per engine table, the Spark SQL that reads the lake's rows in the engine's schema
    (the counterpart of `lake.read.lake_queries`; `{prefix}` is the SparkData's)."""
    tag = f"scs_lake_{uuid.uuid4().hex[:10]}_"
    found = {}
    for name in TABLES:
        frame = _read(session, root, name)
        if frame is not None:
            frame.createOrReplaceTempView(tag + name)
            found[name] = tag + name
    queries: dict[str, str] = {}
    if "records" in found:
        queries["records"] = (
            "SELECT CAST(NULL AS BIGINT) AS rid, source, record_id, sid, type, "
            "unix_micros(occurred_at) AS occurred_us, unix_micros(received_at) AS received_us, "
            f"value FROM {found['records']}"
        )
        queries["supersessions"] = (
            "SELECT source, supersedes AS record_id, unix_micros(received_at) AS at_us "
            f"FROM {found['records']} WHERE supersedes IS NOT NULL"
        )
    if "subjects" in found:
        queries["subjects"] = (
            "SELECT sid, kind, region, born, unix_micros(registered_at) AS registered_us "
            f"FROM {found['subjects']}"
        )
    if "relationships" in found:
        queries["relationships"] = (
            "SELECT CAST(NULL AS BIGINT) AS eid, src, dst, kind, weight, "
            "unix_micros(valid_from) AS valid_from_us, unix_micros(valid_to) AS valid_to_us, "
            f"unix_micros(recorded_at) AS recorded_us FROM {found['relationships']}"
        )
    if "sources" in found:
        # A source registered in the store too is the store's (its reliability holds).
        queries["sources"] = (
            f"SELECT source, reliability FROM {found['sources']} "
            "WHERE source NOT IN (SELECT source FROM {prefix}sources_inputs)"
        )
    return queries


def spark_lake_data(session: Any, root: str, inputs: Inputs) -> SparkData:
    """Spark engine data over the lake at `root` and `inputs` (the store's tables, or empty)."""
    queries = spark_lake_queries(session, root)
    if not queries:
        raise InvalidInput("lake", f"there is no lake at {root} (no records, subjects or sources)")
    data = SparkData(inputs, session, extra=queries)
    if "subjects" in queries and inputs.subjects.num_rows:
        shared = session.sql(
            f"SELECT count(*) FROM {data.view('subjects_inputs')} s "
            f"LEFT SEMI JOIN ({data.extra['subjects'].format(prefix=data.prefix)}) l "
            "ON s.sid = l.sid"
        ).collect()[0][0]
        if shared:
            raise InvalidInput(
                "lake",
                f"{root} has a registry of its own and {shared:,} of its subject ids are also "
                "the store's; evaluate it with an empty store, or ingest its records through "
                "the store",
            )
    return data
