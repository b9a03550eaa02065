"""Schemathesis against the app's own OpenAPI document, authenticated as admin: no server
errors, and every answer (errors included) conforms to the schema it documents.

Nothing is excluded; POST /v1/evaluations gets few examples (see FEW).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from socialcredit.api import create_app
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from tests.api.conftest import copy_demo, read_keys
from tests.api.test_access_matrix import OPS

pytestmark = pytest.mark.slow
# Queues a whole evaluation per call (about a second on this city): few examples.
FEW = {("POST", "/v1/evaluations"): 5}

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
COMMON: dict[str, Any] = {
    "deadline": None,
    "derandomize": True,  # the same examples every run: a failure here is reproducible
    "database": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
}


@pytest.fixture(scope="module")
def admin_key(
    demo_home: tuple[Path, str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A copy of the demo of the module's own (admin writes whatever Schemathesis invents),
    the app over it and the admin key."""
    home, _, _ = copy_demo(demo_home, tmp_path_factory.mktemp("schemathesis"))
    settings_ = Settings(home=home)
    engine = create_engine(settings_)
    app = create_app(settings_, engine)
    yield app, read_keys(settings_)["admin"]
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(admin_key: Any) -> Any:
    app, _ = admin_key
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def headers(admin_key: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_key[1]}", "X-Purpose": "schemathesis"}


# One test per operation of the matrix's table, which a test pins to the OpenAPI document.
# (Schemathesis' lazy `from_fixture` loader does not work with pytest 9: it sets
# `Function._nodeid`, which pytest 9 no longer has; so each test draws from the operation's
# strategy itself.)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), sorted(OPS))
def test_the_api_conforms_to_its_schema(
    api_schema: Any, headers: dict[str, str], method: str, path: str, mode: GenerationMode
) -> None:
    """Valid requests (positive) and invalid ones (negative: every error must be a 4xx in the
    documented shape, never a 500)."""
    operation = api_schema[path][method]
    examples = FEW.get((method, path), 25)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, **COMMON)
    def conforms(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    conforms()
