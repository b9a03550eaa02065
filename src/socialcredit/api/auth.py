"""Who is calling: a bearer key (API), the `scs_key` cookie (web pages), or nobody (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from socialcredit.api.context import Service, service
from socialcredit.sharing.keys import PUBLIC, Principal

COOKIE = "scs_key"
_bearer = HTTPBearer(auto_error=False, description="An API key from `scs keys create`.")


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    key = credentials.credentials if credentials else request.cookies.get(COOKIE)
    if not key:
        return PUBLIC
    return service(request).keys.resolve(key)


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


Caller = Annotated[Principal, Depends(caller)]
Purpose = Annotated[str, Depends(purpose)]
Svc = Annotated[Service, Depends(service)]
