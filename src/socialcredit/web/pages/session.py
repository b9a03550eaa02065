"""Logging in with a key (the same keys as the API), and out.

The key goes in the `scs_key` cookie: HttpOnly (no script reads it), SameSite=Strict (no other
site can send it, so no form elsewhere can act with it), Path=/. Only the pages read it
(`auth.page_caller`); the API takes bearer keys only. SameSite does not stop another site from
posting a login form (which would log the visitor in as the attacker's key), so POSTs here must
come from this site: `same_site` checks Sec-Fetch-Site or Origin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from socialcredit.api.auth import COOKIE, PageCaller, Svc
from socialcredit.errors import Forbidden, Unauthenticated
from socialcredit.sharing.access import OVERSIGHT
from socialcredit.sharing.keys import PUBLIC, Principal
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def home_of(who: Principal) -> str | None:
    """Where a role's pages start (None: the role has no pages)."""
    if who.role in OVERSIGHT:
        return "/dashboard"
    if who.role == "subject":
        return "/me"
    if who.role == "reviewer":
        return "/review"
    return None


def _safe_next(target: str) -> str | None:
    """Only a path on this site (no `//host`, no scheme) is followed after login."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return None


@router.get("/login")
def login_form(request: Request, who: PageCaller, next: str = "") -> Response:
    return page(request, "login.html", who, title="Log in", next=next, message=None)


def same_site(request: Request) -> None:
    """Refuse a form posted from another site (login CSRF)."""
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if fetch_site is not None:
        ok = fetch_site in ("same-origin", "none")
    elif origin is not None:
        ok = origin == f"{request.url.scheme}://{request.url.netloc}"
    else:
        ok = True  # neither header: not a browser's cross-site form (curl, scripts)
    if not ok:
        raise Forbidden("this form may be posted only from this site")


@router.post("/login")
def login(
    request: Request,
    svc: Svc,
    key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    same_site(request)
    try:
        who = svc.keys.resolve(key.strip())
    except Unauthenticated as error:
        svc.log(PUBLIC, "web.login", "key", PURPOSE, "refused")
        message = "Enter a key." if not key.strip() else f"That key does not work: {error.message}."
        return page(request, "login.html", PUBLIC, 401, title="Log in", next=next, message=message)
    svc.log(who, "web.login", who.name, PURPOSE)
    home = home_of(who)
    if home is None:
        return page(request, "no_pages.html", who, title="No pages for this key")
    target = _safe_next(next)
    response = RedirectResponse(target or home, status_code=303)
    response.set_cookie(
        COOKIE,
        key.strip(),
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    same_site(request)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
