"""The engine suite runs on every engine: DuckDB, and Spark (marked `spark`).

`engine` is the factory `Inputs -> PlanData` of one engine; `world` a World bound to it. Tests
that take either run once per engine, and assert the same numbers on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from socialcredit.engine import EngineData, Inputs, PlanData
from tests.engine.world import World

Engine = Callable[[Inputs], PlanData]


@pytest.fixture(scope="session", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "duckdb":
        return EngineData
    from socialcredit.engine.spark import SparkData

    session: Any = request.getfixturevalue("spark")

    def make(inputs: Inputs) -> PlanData:
        return SparkData(inputs, session)

    return make


@pytest.fixture
def world(engine: Engine) -> World:
    return World(make=engine)
