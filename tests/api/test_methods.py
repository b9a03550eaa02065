"""RFC 9110 for methods a resource does not support: every path of the OpenAPI document, asked
with every method it does not document, by every caller, answers 405 in the documented error
shape, with an `Allow` header that lists the methods it does support (RFC 9110 §15.5.6: the
origin server MUST generate one).

Schemathesis checks the same (`unsupported_method`) only in its coverage phase, which the
in-process tests of test_schemathesis.py do not run; this is that check, made exhaustive.
"""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import CALLERS, MEASURE, World

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def undocumented(world: World) -> list[tuple[str, str, frozenset[str]]]:
    """(method, concrete path, documented methods) for every method a path does not document."""
    found = []
    for template, item in world.app.api.openapi()["paths"].items():
        documented = frozenset(m.upper() for m in item)
        if "GET" in documented:
            documented |= {"HEAD"}  # a GET route answers HEAD too (RFC 9110 §9.3.2)
        path = template.replace("{identifier}", world.own).replace("{name}", MEASURE)
        path = re.sub(r"\{[^}]+\}", "1", path)  # any other parameter: routing ignores its value
        found += [(method, path, documented) for method in METHODS if method not in documented]
    return found


@pytest.mark.parametrize("caller", CALLERS)
def test_an_undocumented_method_is_a_405_in_the_error_shape(demo: World, caller: str) -> None:
    for method, path, _ in undocumented(demo):
        response = demo.client.request(method, path, headers=demo.headers(caller))
        assert response.status_code == 405, (caller, method, path, response.status_code)
        if method != "HEAD":  # a HEAD answer has no body
            assert response.json()["error"]["code"] == "method_not_allowed", (method, path)


@pytest.mark.parametrize("caller", CALLERS)
def test_a_405_names_the_allowed_methods(demo: World, caller: str) -> None:
    for method, path, documented in undocumented(demo):
        response = demo.client.request(method, path, headers=demo.headers(caller))
        allow = {m for m in re.split(r"\s*,\s*", response.headers.get("Allow", "")) if m}
        assert allow >= documented - {"HEAD"}, (caller, method, path, allow)
        assert method not in allow, (caller, method, path, allow)
