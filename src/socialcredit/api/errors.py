"""One JSON error shape for every failure, mapped from the package's errors in one table:

    {"error": {"code": "not_found", "message": "...", "details": [...] | null}}

No stack trace ever reaches a caller; unexpected errors are logged and answered with a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount

from socialcredit.api.context import client_of, service
from socialcredit.audit.log import Entry
from socialcredit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ResourceLimit,
    SocialCreditError,
    StoreNotReady,
    TooLarge,
    Unauthenticated,
)
from socialcredit.sharing.keys import PUBLIC, Principal

log = logging.getLogger("socialcredit.api")

STATUS: list[tuple[type[SocialCreditError], int]] = [
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (StoreNotReady, 503),
    (TooLarge, 413),
    (ResourceLimit, 503),
    (Unauthenticated, 401),
    (Forbidden, 403),
]
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}


def status_of(error: SocialCreditError) -> int:
    return next((s for kind, s in STATUS if isinstance(error, kind)), 500)


def body(code: str, message: str, details: Any = None) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message, "details": details}})


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return Response(
        body(code, message, details), status, headers=headers, media_type="application/json"
    )


def from_error(error: SocialCreditError) -> Response:
    details = None
    if isinstance(error, InvalidInput):
        problems = getattr(error, "problems", None)
        details = (
            [{"field": k, "reason": r} for k, r in problems]
            if problems
            else [{"field": error.field, "reason": error.reason}]
        )
    return error_response(status_of(error), error.code, error.message, details)


def allowed_methods(request: Request) -> str:
    """The `Allow` header of a 405 (RFC 9110, 15.5.6): every method some route serves at the
    path (the router's own names only the first route that matched the path). Asked of each
    route with each method, since included routers nest their routes. A mount matches every
    method; the static files it serves answer GET and HEAD."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed) or "GET, HEAD"


async def refused(request: Request) -> None:
    """Every refusal (401, 403) is in the audit log, with who was refused, what they asked
    for and why they said they asked; the answer leaves only once the entry is committed."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        principal = PUBLIC
    route = request.scope.get("route")
    action = f"{request.method} {getattr(route, 'path', request.url.path)}"
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    purpose = request.headers.get("x-purpose") or "unspecified"
    entry = Entry.now(
        principal.name, principal.role, action[:64], target[:300], purpose[:300], "refused"
    )
    await service(request).refused(client_of(request.scope), entry)


def install(app: FastAPI) -> None:
    async def domain(request: Request, error: Exception) -> Response:
        assert isinstance(error, SocialCreditError)
        if isinstance(error, Unauthenticated | Forbidden):
            await refused(request)
        return from_error(error)

    async def validation(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        details = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "reason": str(e.get("msg", "invalid")),
            }
            for e in error.errors()
        ]
        first = details[0] if details else {"field": "", "reason": "invalid"}
        message = f"{first['field']}: {first['reason']}"
        return error_response(422, "invalid_input", message, details)

    async def http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        code = HTTP_CODES.get(error.status_code, "error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(error.status_code, code, str(error.detail), headers=headers)

    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; it has been logged")

    app.add_exception_handler(SocialCreditError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, unexpected)
