"""The gate check, `GET /v1/measures/{name}/check?subject=scheme:value`.

Airlines, railways and schools ask it at every sale or enrolment, so it is the service's hot
path. `FastGate` answers it straight from ASGI, in front of FastAPI's routing and validation
(which cost more than the whole check), and the FastAPI route exists for the OpenAPI
document and answers identically: both call `gate_check`. Every check, allowed or refused,
is in the audit log before the answer leaves.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, unquote_plus

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from socialcredit.api.context import Service
from socialcredit.api.errors import body, status_of
from socialcredit.audit.log import Entry
from socialcredit.errors import Forbidden, InvalidInput, SocialCreditError
from socialcredit.sharing.access import require_measure
from socialcredit.sharing.keys import PUBLIC, Principal

PATH = re.compile(r"^/v1/measures/([^/]+)/check$")
ACTION = "measure.check"


async def gate_check_json(
    svc: Service, principal: Principal, measure: str, subject: str, purpose: str
) -> bytes:
    """The answer as JSON, once the check is in the audit log."""
    try:
        require_measure(principal, measure)
    except Forbidden:
        target = f"{measure} {subject}"
        await svc.audit.record(
            Entry.now(principal.name, principal.role, ACTION, target, purpose, "refused")
        )
        raise
    first, answer = svc.gate.check_json(measure, subject)
    target = f"{measure} {first}"
    await svc.audit.record(Entry.now(principal.name, principal.role, ACTION, target, purpose))
    return answer


async def gate_check(
    svc: Service, principal: Principal, measure: str, subject: str, purpose: str
) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(
        await gate_check_json(svc, principal, measure, subject, purpose)
    )
    return document


class FastGate:
    """ASGI middleware: serves the gate check, passes everything else to the app."""

    def __init__(self, app: ASGIApp, svc: Service) -> None:
        self.app = app
        self.svc = svc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        matched = PATH.match(scope["path"])
        if matched is None:
            await self.app(scope, receive, send)
            return
        status, payload = await self._answer(scope, unquote(matched.group(1)))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": _HEADERS_401 if status == 401 else _HEADERS,
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, scope: Scope, measure: str) -> tuple[int, bytes]:
        try:
            subjects = [
                unquote_plus(value)
                for name, _, value in (
                    part.partition("=") for part in scope["query_string"].decode().split("&")
                )
                if name == "subject"
            ]
            if len(subjects) != 1 or not subjects[0]:
                raise InvalidInput("subject", "give exactly one subject=scheme:value")
            if len(subjects[0]) > 220:
                raise InvalidInput("subject", "at most 220 characters")
            principal, purpose = PUBLIC, "unspecified"
            for name, value in scope["headers"]:
                if name == b"authorization":
                    principal = self._principal(value)
                elif name == b"x-purpose":
                    purpose = value.decode("latin-1")[:300]
            answer = await gate_check_json(self.svc, principal, measure, subjects[0], purpose)
            return 200, answer
        except SocialCreditError as error:
            details = None
            if isinstance(error, InvalidInput):
                details = [{"field": error.field, "reason": error.reason}]
            return status_of(error), body(error.code, error.message, details)

    def _principal(self, header: bytes) -> Principal:
        scheme, _, key = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return PUBLIC
        return self.svc.keys.resolve(key.strip())


_HEADERS = [(b"content-type", b"application/json")]
_HEADERS_401 = [*_HEADERS, (b"www-authenticate", b"Bearer")]
