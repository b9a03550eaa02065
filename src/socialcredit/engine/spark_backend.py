"""Ibis 12's PySpark backend, with three gaps closed for the evaluation plan.

- In-memory tables (the plan's small lookup tables) are registered from Arrow, not through
  pandas, where an integer column with nulls turns into floats and Spark reads it back as nulls.
- `cache()` registers the in-memory tables the cached expression reads (Ibis only does it
  before executing, not before caching).
- Results come back through Spark's own Arrow path (`DataFrame.toArrow`), exact for int64
  with nulls and without a pandas copy.

Imported only by `engine.spark` when a Spark engine is built (it needs pyspark).
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
from ibis.backends.pyspark import Backend
from ibis.formats.pyarrow import PyArrowData


class PlanBackend(Backend):  # type: ignore[misc]  # ibis is untyped here
    """The PySpark backend the engine connects with (see the module docstring)."""

    def _register_in_memory_table(self, op: Any) -> None:
        table = op.data.to_pyarrow(op.schema)
        self._session.createDataFrame(table).createOrReplaceTempView(op.name)

    def _create_cached_table(self, name: str, expr: Any) -> Any:
        self._run_pre_execute_hooks(expr)
        return super()._create_cached_table(name, expr)

    def to_pyarrow(
        self, expr: Any, /, *, params: Any = None, limit: Any = None, **kwargs: Any
    ) -> pa.Table:
        table_expr = expr.as_table()
        self._run_pre_execute_hooks(table_expr)
        query = self.compile(table_expr, params=params, limit=limit)
        table = self._session.sql(query).toArrow()
        table = PyArrowData.convert_table(table, table_expr.schema())
        return expr.__pyarrow_result__(table)


def connect(session: Any) -> Any:
    """An Ibis connection to `session` through `PlanBackend`."""
    if getattr(ibis.options, "pyspark", None) is None:  # set when ibis.pyspark is first used
        PlanBackend.register_options()
    return PlanBackend().connect(session)
