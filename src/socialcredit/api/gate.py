"""The gate check, `GET /v1/measures/{name}/check?subject=scheme:value`.

Airlines, railways and schools ask it at every sale or enrolment, so it is the service's hot
path. `FastGate` answers it straight from ASGI, in front of FastAPI's routing and validation
(which cost more than the whole check), and the FastAPI route exists for the OpenAPI
document and answers identically: both call `gate_check`. Every check, allowed or refused,
is in the audit log before the answer leaves.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from socialcredit.api.auth import unknown_key
from socialcredit.api.context import Service, client_of
from socialcredit.api.errors import body, status_of
from socialcredit.api.throttle import too_many, wait_for
from socialcredit.audit.log import Entry
from socialcredit.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    SocialCreditError,
    Unauthenticated,
)
from socialcredit.sharing.access import require_measure
from socialcredit.sharing.keys import PUBLIC, Principal

log = logging.getLogger("socialcredit.api")
PATH = re.compile(r"^/v1/measures/([^/]+)/check$")
ACTION = "measure.check"


async def refuse(
    svc: Service, principal: Principal, target: str, purpose: str, client: str
) -> None:
    entry = Entry.now(principal.name, principal.role, ACTION, target, purpose, "refused")
    await svc.refused(client, entry)


async def gate_check_json(
    svc: Service,
    principal: Principal,
    measure: str,
    subject: str,
    purpose: str,
    policy: str | None = None,
    log_refusal: bool = True,
    client: str = "unknown",
) -> bytes:
    """The answer as JSON, once the check is in the audit log: allowed, refused, or asked about
    a subject that is not registered (`not_found`) or not an identifier (`invalid`), so that
    probing who is registered leaves a trace too."""
    try:
        require_measure(principal, measure)
    except (Forbidden, Unauthenticated):
        if log_refusal:  # the FastAPI route's error handler logs its refusals itself
            await refuse(svc, principal, f"{measure} {subject}", purpose, client)
        raise
    try:
        asked, answer = svc.gate.check_json(measure, subject, policy)
    except SocialCreditError as error:
        outcome = "not_found" if isinstance(error, NotFound) else "invalid"
        entry = Entry.now(principal.name, principal.role, ACTION, f"{measure} {subject}", purpose)
        await svc.audit.record(entry._replace(outcome=outcome))
        raise
    target = f"{measure} {asked}"
    await svc.audit.record(Entry.now(principal.name, principal.role, ACTION, target, purpose))
    return answer


async def gate_check(
    svc: Service,
    principal: Principal,
    measure: str,
    subject: str,
    purpose: str,
    policy: str | None = None,
) -> dict[str, Any]:
    """The FastAPI route's path (the fast path usually answers first): the same answer."""
    document: dict[str, Any] = orjson.loads(
        await gate_check_json(svc, principal, measure, subject, purpose, policy, False)
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
        # the server has already percent-decoded the path: decode nothing twice
        status, payload, headers = await self._answer(scope, matched.group(1))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _answer(
        self, scope: Scope, measure: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        principal, purpose = PUBLIC, "unspecified"
        try:
            key, raw_purpose = None, b""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    key = _bearer(value)
                elif name == b"x-purpose" and value:
                    raw_purpose = value
            # The rate limits first (`api/throttle.py`, applied here to the gate's requests): a
            # valid key without a quota of its own, a relying party's, passes at once.
            valid, refusal = None, None
            if key is not None:
                try:
                    valid = self.svc.keys.resolve(key)
                except Unauthenticated as error:
                    refusal = error
            if valid is None or valid.rate is not None:
                wait = wait_for(self.svc, scope, valid)
                if wait is not None:
                    payload, headers = await too_many(self.svc, scope, valid, wait)
                    return 429, payload, headers
            query = _query(scope["query_string"])
            subjects, policies = query.get("subject", []), query.get("policy", [])
            if len(subjects) != 1 or not subjects[0]:
                raise InvalidInput("subject", "give exactly one subject=scheme:value")
            if len(subjects[0]) > 220:
                raise InvalidInput("subject", "at most 220 characters")
            if len(policies) > 1 or (policies and not 1 <= len(policies[0]) <= 64):
                raise InvalidInput("policy", "give at most one policy name (1 to 64 characters)")
            if raw_purpose:
                purpose = raw_purpose.decode("latin-1")
                if len(purpose) > 300:
                    raise InvalidInput("X-Purpose", "at most 300 characters")
            if key is not None and refusal is not None:
                target = f"{measure} {subjects[0]}"
                await refuse(self.svc, unknown_key(key), target, purpose, client_of(scope))
                raise refusal
            if valid is not None:
                principal = valid
            policy = policies[0] if policies else None
            answer = await gate_check_json(
                self.svc, principal, measure, subjects[0], purpose, policy, client=client_of(scope)
            )
            return 200, answer, _HEADERS
        except SocialCreditError as error:
            details = None
            if isinstance(error, InvalidInput):
                details = [{"field": error.field, "reason": error.reason}]
            status = status_of(error)
            payload = body(error.code, error.message, details)
            return status, payload, _HEADERS_401 if status == 401 else _HEADERS
        except Exception:
            log.exception("unexpected error in a gate check of %s", measure)
            return 500, body("internal", "internal error; it has been logged"), _HEADERS


def _query(raw: bytes) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in raw.decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name in ("subject", "policy"):
            found.setdefault(name, []).append(unquote_plus(value))
    return found


def _bearer(header: bytes) -> str | None:
    scheme, _, key = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


_HEADERS = [(b"content-type", b"application/json")]
_HEADERS_401 = [*_HEADERS, (b"www-authenticate", b"Bearer")]
