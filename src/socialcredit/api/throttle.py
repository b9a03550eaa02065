"""Rate limits: what a stranger can do, per client address, and each key's own quota.

    requests without a valid key     SCS_RATE_ANONYMOUS per client address
    refusals (401, 403, bad logins)  SCS_RATE_FAILURES per client address; once spent, every
                                     request from the address without a valid key is refused
    expensive routes                 SCS_RATE_EXPENSIVE per client address, whoever calls
    a key minted with --rate N/s     its own quota; a key without one (a relying party's, a
                                     source's: the operator's contract) has none

Past a limit the answer is 429 with `Retry-After`. The counters (the `limits` library's sliding
window counter) live in the process's memory, or in Redis when SCS_REDIS_URL is set, so that
several workers share them. If Redis fails, requests are let through (and that is logged at
most once a minute): the limits protect the service, they are not a grant of access.

Every refusal is in the audit log, but not one row per request without end: within a client's
allowance of refusals each is written as it happens; past it, the first of a window
(SCS_REFUSAL_WINDOW) is written, and the rest (refusals and 429s) are counted and written as
one entry with their count when the window closes (`Service.refused`, `RefusalTally`).
"""

from __future__ import annotations

import asyncio
from http.cookies import CookieError, SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from socialcredit.api.auth import COOKIE
from socialcredit.api.context import Service, client_of
from socialcredit.api.errors import body
from socialcredit.audit.log import Entry
from socialcredit.errors import Unauthenticated
from socialcredit.i18n import _
from socialcredit.sharing import sessions
from socialcredit.sharing.keys import PUBLIC, Principal

# (method, path) of the routes that cost the service much per request: a policy is parsed and
# linted, an evaluation runs every policy, a subject search looks a subject up.
EXPENSIVE = frozenset({("POST", "/v1/policies"), ("POST", "/v1/evaluations"), ("GET", "/subjects")})
ACTION = "rate.limit"


def wait_for(svc: Service, scope: Scope, principal: Principal | None) -> int | None:
    """Count the request against the limits that apply to it: None if it is within them,
    else the seconds to wait. `principal` is the valid key's, or None (no valid key)."""
    limiter, client = svc.limiter, client_of(scope)
    if principal is None:
        wait = limiter.spent(limiter.failures, "failures", client) or limiter.hit(
            limiter.anonymous, "anonymous", client
        )
    elif principal.rate is not None:
        wait = limiter.hit(limiter.quota(principal.rate), "key", principal.name)
    else:
        wait = None
    if wait is None and (scope["method"], scope["path"]) in EXPENSIVE:
        wait = limiter.hit(limiter.expensive, "expensive", client)
    return wait


async def too_many(
    svc: Service, scope: Scope, principal: Principal | None, wait: int
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The 429's body and headers, once it is accounted for in the audit log (the first of
    the client's window is written, the rest counted)."""
    who = principal or PUBLIC
    target = f"{scope['method']} {scope['path']}"
    entry = Entry.now(who.name, who.role, ACTION, target, "unspecified", "rate_limited")
    for due in svc.tally.count(client_of(scope), entry):
        await svc.audit.record(due)
    payload = body("rate_limited", _("too many requests; retry after {wait} s", wait=wait))
    headers = [
        (b"content-type", b"application/json"),
        (b"retry-after", str(wait).encode("ascii")),
    ]
    return payload, headers


class Throttle:
    """ASGI middleware: answers 429 past a limit. It stands behind the gate check's fast path,
    which applies the same limits itself (`FastGate`), so that a relying party's check costs
    no second look at its key."""

    def __init__(self, app: ASGIApp, svc: Service) -> None:
        self.app = app
        self.svc = svc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bearer, session = _credentials(scope["headers"])
        if session is not None and bearer is None:  # a store read: off the event loop
            principal = await asyncio.to_thread(self._session, session)
        else:
            principal = self._key(bearer)
        wait = wait_for(self.svc, scope, principal)
        if wait is None:
            await self.app(scope, receive, send)
            return
        payload, headers = await too_many(self.svc, scope, principal, wait)
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _key(self, key: str | None) -> Principal | None:
        """The valid key's principal, or None (no key, or one that does not authenticate).
        A key is looked up also from an address that has spent its refusals: a valid key
        behind the same address (a shared NAT) is not locked out, and a lookup is one indexed
        read (cached), which takes no lock of the audit log."""
        if key is None:
            return None
        try:
            return self.svc.keys.resolve(key)
        except Unauthenticated:
            return None

    def _session(self, cookie: str) -> Principal | None:
        """A web page's logged-in caller (the session cookie), or None: like a valid key, a
        live session is not counted as anonymous."""
        try:
            return sessions.resolve(self.svc.engine, self.svc.sessions, cookie)
        except Unauthenticated:
            return None


def _credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """The bearer key (the API's) and the session cookie (the pages'), each if sent."""
    bearer = cookie = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and key.strip():
                bearer = key.strip()
        elif name == b"cookie" and COOKIE.encode() + b"=" in value:
            cookie = value.decode("latin-1")
    if cookie is None:
        return bearer, None
    try:
        jar = SimpleCookie(cookie)
    except CookieError:
        return bearer, None
    morsel = jar.get(COOKIE)
    return bearer, (morsel.value if morsel is not None and morsel.value else None)
