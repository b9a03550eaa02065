"""Who is calling: a bearer key (API), the `scs_session` cookie (web pages), or nobody (public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from socialcredit.api.context import Service, service
from socialcredit.errors import Unauthenticated
from socialcredit.sharing import sessions
from socialcredit.sharing.access import require_role
from socialcredit.sharing.keys import PUBLIC, Principal

COOKIE = "scs_session"
_bearer = HTTPBearer(auto_error=False, description="An API key from `scs keys create`.")


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal of the API request's bearer key. The API never reads the pages' cookie:
    a script on any page of the origin (the API docs' included) cannot call it as the
    logged-in user."""
    return _principal(request, credentials.credentials if credentials else None)


def page_caller(request: Request) -> Principal:
    """The principal of a web page's request: the session in the `scs_session` cookie."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        request.state.principal = PUBLIC
        return PUBLIC
    svc = service(request)
    try:
        principal = sessions.resolve(svc.engine, svc.sessions, cookie)
    except Unauthenticated:
        request.state.principal = Principal("invalid session", "unknown")
        raise
    request.state.principal = principal
    return principal


def _principal(request: Request, key: str | None) -> Principal:
    """Resolve the key; it is kept on the request, so that a refusal can be audited with who
    was refused (`errors.refused`), also when the key itself is refused."""
    if not key:
        request.state.principal = PUBLIC
        return PUBLIC
    try:
        principal = service(request).keys.resolve(key)
    except Unauthenticated:
        request.state.principal = unknown_key(key)
        raise
    request.state.principal = principal
    return principal


def unknown_key(key: str) -> Principal:
    """How the audit log names a key that does not authenticate: `unverified:<prefix>` when it
    has the shape of one (anyone can type another's public prefix, so it is not `key:`), never
    by its secret."""
    parts = key.split("_")
    prefix = parts[1][:16] if len(parts) >= 3 and parts[0] == "scs" else ""
    return Principal(f"unverified:{prefix}" if prefix.isalnum() else "invalid key", "unknown")


def purpose(
    x_purpose: Annotated[
        str | None,
        Header(
            max_length=300,
            description="Why the data is read; recorded in the audit log with every access.",
        ),
    ] = None,
) -> str:
    return x_purpose or "unspecified"


def requires(roles: tuple[str, ...], action: str) -> Any:
    """A route dependency that refuses other roles before the body is validated, so that a
    caller without the right key learns 401/403, not what a valid body would look like."""

    def check(who: Annotated[Principal, Depends(caller)]) -> None:
        require_role(who, roles, action)

    return Depends(check)


Caller = Annotated[Principal, Depends(caller)]
PageCaller = Annotated[Principal, Depends(page_caller)]
Purpose = Annotated[str, Depends(purpose)]
Svc = Annotated[Service, Depends(service)]
