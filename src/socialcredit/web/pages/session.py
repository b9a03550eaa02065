"""Logging in with a key (the same keys as the API), and out.

Logging in starts a session in the store (`sharing.sessions`); the `scs_session` cookie carries
its signed token, never the key: HttpOnly (no script reads it), SameSite=Strict (no other site
can send it, so no form elsewhere can act with it), Path=/, Secure when the site is reached over
HTTPS (directly, or through a proxy named in `SCS_FORWARDED_ALLOW_IPS`), and a Max-Age of the
session's lifetime. Logging out ends the stored session. Only the pages read the cookie
(`auth.page_caller`); the API takes bearer keys only. SameSite does not stop another site from
posting a login form (which would log the visitor in as the attacker's key), so POSTs here must
come from this site: `same_site` checks Sec-Fetch-Site or Origin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from socialcredit.api.auth import COOKIE, PageCaller, Svc
from socialcredit.api.context import client_of
from socialcredit.audit.log import Entry
from socialcredit.errors import Forbidden, Unauthenticated
from socialcredit.i18n import Message, _, localize
from socialcredit.sharing import sessions
from socialcredit.sharing.access import OVERSIGHT
from socialcredit.sharing.keys import PUBLIC, Principal
from socialcredit.sharing.sessions import SESSIONS_LOCK
from socialcredit.store.db import writing
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
    return page(request, "login.html", who, title=_("Log in"), next=next, message=None)


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
        raise Forbidden(Message("this form may be posted only from this site"))


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
        refusal = Entry.now(PUBLIC.name, PUBLIC.role, "web.login", "key", PURPOSE, "refused")
        svc.refused_now(client_of(request.scope), refusal)
        message = (
            _("Enter a key.")
            if not key.strip()
            else _("That key does not work: {reason}.", reason=localize(error.message))
        )
        return page(
            request, "login.html", PUBLIC, 401, title=_("Log in"), next=next, message=message
        )
    svc.log(who, "web.login", who.name, PURPOSE)
    home = home_of(who)
    if home is None:
        return page(request, "no_pages.html", who, title=_("No pages for this key"))
    target = _safe_next(next)
    # One writer at a time (SQLite: BEGIN IMMEDIATE), so that the lookups below cannot turn
    # into a write that fails because another request wrote in between.
    with writing(svc.engine, SESSIONS_LOCK) as conn:
        previous = request.cookies.get(COOKIE)
        if previous:  # logging in again (perhaps as another key) ends the session before
            sessions.end(conn, svc.sessions, previous)
        cookie = sessions.start(conn, svc.sessions, who)
    response = RedirectResponse(target or home, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(svc.sessions.lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, svc: Svc) -> Response:
    """End the session in the store (a copy of the cookie stops working too), then forget it."""
    same_site(request)
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            who: Principal | None = sessions.resolve(svc.engine, svc.sessions, cookie)
        except Unauthenticated:
            who = None  # expired or ended already: there is nothing left to end
        with svc.engine.begin() as conn:
            ended = sessions.end(conn, svc.sessions, cookie)
        if ended and who is not None:
            svc.log(who, "web.logout", who.name, PURPOSE)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response
