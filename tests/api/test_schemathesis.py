"""Schemathesis against the app's own OpenAPI document, as every caller of the access matrix:
no server errors, and every answer (errors included) conforms to the schema it documents.

The callers are the six roles, nobody, a revoked key, and a subject aimed at another subject.
Path parameters that name who is asked about are set to what makes the call meaningful for the
caller: a subject asks about itself (its allowed path), `subject_other` about a subject far
from it (every such call must be refused, whatever else Schemathesis invents), a relying party
about the measure it was granted. A caller that the matrix refuses never gets a 2xx.

Nothing is excluded. Examples per test are sized so that the whole module stays within about
three minutes on two cores (see EXAMPLES); admin, which may do everything, gets the most.
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
from tests.api.conftest import CALLERS, MEASURE, copy_demo, read_keys
from tests.api.test_access_matrix import OPS

pytestmark = pytest.mark.slow
# Every caller of the matrix, and the subject key aimed at another subject.
FUZZ_CALLERS = (*CALLERS, "subject_other")
# Examples per (caller, operation, mode): admin may do everything and gets the most; another
# caller allowed the operation gets fewer (the answers differ by role only in who is refused and
# in what a subject sees); a refused caller's answer is a 401/403 (or a 422 for input refused
# before the key is looked at), cheap, but checked all the same.
EXAMPLES = {"admin": 25, "allowed": 8, "refused": 4}
# Runs a whole evaluation per call (about a second on this city); the public lists parse every
# public policy per call: few examples, for everyone.
FEW = {("POST", "/v1/evaluations"): 3, ("GET", "/v1/lists"): 5, ("GET", "/v1/lists/{name}"): 5}
# Schemathesis' default read timeout (10 s) is shorter than an evaluation takes when the two
# cores are shared with other work: a timeout is not what this test looks for.
TIMEOUT = 300

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
def fuzzed(
    demo_home: tuple[Path, str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, dict[str, str | None], str, str]]:
    """A copy of the demo of the module's own (admin and operator write whatever Schemathesis
    invents), the app over it, every caller's key, and the own and other subject."""
    home, own, other = copy_demo(demo_home, tmp_path_factory.mktemp("schemathesis"))
    settings_ = Settings(home=home)
    engine = create_engine(settings_)
    app = create_app(settings_, engine)
    yield app, read_keys(settings_), own, other
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzzed: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed[0])


def refused(caller: str, method: str, path: str) -> bool:
    """Whether the access matrix refuses `caller` this operation (with the path parameters
    `aimed` sets)."""
    op = OPS[(method, path)]
    if caller == "subject_other":
        return "subject" not in op.allowed or op.subject_own_only
    return caller not in op.allowed


def aimed(caller: str, own: str, other: str) -> dict[str, str]:
    """The path parameters that name whom the caller asks about."""
    if caller == "subject":
        return {"identifier": own}
    if caller == "subject_other":
        return {"identifier": other}
    if caller == "relying_party":
        return {"name": MEASURE}
    return {}


def examples(caller: str, method: str, path: str) -> int:
    if caller == "admin":
        many = EXAMPLES["admin"]
    else:
        many = EXAMPLES["refused" if refused(caller, method, path) else "allowed"]
    return min(many, FEW.get((method, path), many))


# One test per operation of the matrix's table, which a test pins to the OpenAPI document.
# (Schemathesis' lazy `from_fixture` loader does not work with pytest 9: it sets
# `Function._nodeid`, which pytest 9 no longer has; so each test draws from the operation's
# strategy itself.)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), sorted(OPS))
@pytest.mark.parametrize("caller", FUZZ_CALLERS)
def test_the_api_conforms_to_its_schema(
    api_schema: Any, fuzzed: Any, caller: str, method: str, path: str, mode: GenerationMode
) -> None:
    """Valid requests (positive) and invalid ones (negative: every error must be a 4xx in the
    documented shape, never a 500)."""
    _, keys, own, other = fuzzed
    key = keys["subject" if caller == "subject_other" else caller]
    headers = {"X-Purpose": "schemathesis"} | ({"Authorization": f"Bearer {key}"} if key else {})
    operation = api_schema[path][method]
    params = {
        name: value for name, value in aimed(caller, own, other).items() if f"{{{name}}}" in path
    }
    must_refuse = refused(caller, method, path)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples(caller, method, path), **COMMON)
    def conforms(case: Any) -> None:
        if params:
            case.path_parameters = {**(case.path_parameters or {}), **params}
        response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=TIMEOUT)
        # A negative case may drop or replace the Authorization header (it is a parameter of
        # the schema too): then someone else called, and the refusal is not this caller's.
        as_caller = response.request.headers.get("Authorization") == headers.get("Authorization")
        if must_refuse and as_caller:
            assert not 200 <= response.status_code < 300, (caller, response.status_code)

    conforms()
