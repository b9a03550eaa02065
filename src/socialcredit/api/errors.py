"""One JSON error shape for every failure, mapped from the package's errors in one table:

    {"error": {"code": "not_found", "message": "...", "details": [...] | null}}

`code` and each detail's `field` are stable machine names; `message` and each detail's `reason`
are for people, in the request's language (`readable`, `validation_reason`). No stack trace
ever reaches a caller; unexpected errors are logged and answered with a 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
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
from socialcredit.i18n import N_, Message, _, localize
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

# The words of an HTTP error that has no message of its own (Starlette's default detail is the
# status phrase): the same English, translated.
HTTP_PHRASES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    409: N_("Conflict"),
    413: N_("Content Too Large"),
    422: N_("Unprocessable Content"),
    429: N_("Too Many Requests"),
    503: N_("Service Unavailable"),
}
# Why a request's field was refused, by pydantic's error type (its `ctx` fills the names); a
# type not here keeps pydantic's own English message.
REASONS = {
    "missing": N_("a value is required"),
    "extra_forbidden": N_("this field is not expected"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must have at least {min_length} characters"),
    "string_too_long": N_("must have at most {max_length} characters"),
    "string_pattern_mismatch": N_("must match the pattern {pattern}"),
    "too_short": N_("must have at least {min_length} items"),
    "too_long": N_("must have at most {max_length} items"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "bool_parsing": N_("must be true or false"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "literal_error": N_("must be one of {expected}"),
    "enum": N_("must be one of {expected}"),
    "list_type": N_("must be a list"),
    "dict_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "json_invalid": N_("is not valid JSON"),
}


def readable(error: SocialCreditError) -> str:
    """The error's message in the language in use. A `Message` is translated; so is the reason
    of an `InvalidInput` raised with a `Message` reason (the field stays the machine name)."""
    if isinstance(error.message, Message):
        return localize(error.message)
    if (
        isinstance(error, InvalidInput)
        and isinstance(error.reason, Message)
        and error.message == (f"{error.field}: {error.reason}" if error.field else error.reason)
    ):
        reason = localize(error.reason)
        return _("{field}: {reason}", field=error.field, reason=reason) if error.field else reason
    return error.message


def validation_reason(problem: Any) -> str:
    """Why pydantic refused a field, in the language in use."""
    template = REASONS.get(str(problem.get("type", "")))
    if template is None:
        return str(problem.get("msg", _("not valid")))
    context = problem.get("ctx") or {}
    try:
        return _(template, **{k: str(v) for k, v in context.items()})
    except (KeyError, IndexError):  # a context without the name the sentence needs
        return str(problem.get("msg", _("not valid")))


def http_message(status: int, detail: str) -> str:
    """An HTTP error's message: its own words, or its status phrase in the language in use."""
    phrase = HTTP_PHRASES.get(status)
    if phrase is not None and detail == HTTPStatus(status).phrase:
        return _(phrase)
    return detail


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
            [{"field": k, "reason": localize(r)} for k, r in problems]
            if problems
            else [{"field": error.field, "reason": localize(error.reason)}]
        )
    return error_response(status_of(error), error.code, readable(error), details)


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

    async def validation(_request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        details = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "reason": validation_reason(e),
            }
            for e in error.errors()
        ]
        first = details[0] if details else {"field": "", "reason": _("not valid")}
        message = _("{field}: {reason}", field=first["field"], reason=first["reason"])
        return error_response(422, "invalid_input", message, details)

    async def http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        code = HTTP_CODES.get(error.status_code, "error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        message = http_message(error.status_code, str(error.detail))
        return error_response(error.status_code, code, message, headers=headers)

    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", _("internal error; it has been logged"))

    app.add_exception_handler(SocialCreditError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, unexpected)
