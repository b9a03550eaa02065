"""Rendering pages: the templates, their filters, and errors as pages.

A page route uses `PageRoute`: any `SocialCreditError` (also from the `caller` dependency, e.g.
an ended or expired session in the cookie) becomes a page with the right status: 401 the login
form, 403 a refusal, 404 not found. Refusals are audited as the API's are
(`api.errors.refused`). The JSON error shape stays with `/v1`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from socialcredit import i18n
from socialcredit.api.auth import COOKIE
from socialcredit.api.context import service
from socialcredit.api.errors import readable, refused, status_of, validation_reason
from socialcredit.errors import Forbidden, SocialCreditError, Unauthenticated
from socialcredit.i18n import N_, Message, formats
from socialcredit.i18n.catalog import translations
from socialcredit.i18n.languages import NAMES
from socialcredit.i18n.text import text_language
from socialcredit.sharing import sessions
from socialcredit.sharing.access import OVERSIGHT, STAFF
from socialcredit.sharing.keys import PUBLIC, PUBLIC_ROLE, Principal
from socialcredit.web import assets

log = logging.getLogger("socialcredit.web")
HERE = Path(__file__).parent
PURPOSE = "web page"

# The pages load scripts and styles from this origin only; plotly sets inline styles.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


# Each role as a word in the reader's language (the header, the no-pages page).
ROLE_NAMES = {
    "admin": N_("Administrator"),
    "operator": N_("Operator"),
    "reviewer": N_("Reviewer"),
    "auditor": N_("Auditor"),
    "subject": N_("Data subject"),
    "source": N_("Data source"),
    "relying_party": N_("Relying party"),
    "public": N_("Visitor"),
}
ERROR_TITLES = {403: N_("Not allowed"), 404: N_("Not found"), 422: N_("Not understood")}


def role_name(role: str) -> str:
    """A role in the reader's language (`admin` → Administrator, 管理员)."""
    known = ROLE_NAMES.get(role)
    return i18n.gettext(known) if known else _words(role)


def _instant(value: datetime | str | None, with_time: bool = False) -> str:
    return formats.format_datetime(value) if with_time else formats.format_date(value)


def _clock(value: datetime | None) -> str:
    """A time of day in UTC to the second, saying so: `14:05:33 UTC` (the live view)."""
    return value.astimezone(UTC).strftime("%H:%M:%S UTC") if value else ""


def _words(value: str) -> str:
    """`dishonest_judgment_debtors` → `Dishonest judgment debtors` (a last resort for a machine
    name that has no text of its own; policy texts use `text`, fixed words the catalog)."""
    text = value.replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def _switch_url(request: Request, language: str) -> str:
    """This page in `language` (`?lang=` is also remembered in the cookie)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*params, ("lang", language)])


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
# `_()`, `gettext`, `ngettext` and `{% trans %}` translate into the request's language (the
# context variable `LanguageMiddleware` sets); newstyle: `_("… %(n)s", n=…)`, autoescaped.
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda message: i18n.gettext(message),
    lambda singular, plural, n: translations(i18n.current()).ngettext(singular, plural, n),
    newstyle=True,
)
templates.env.filters.update(
    instant=_instant,
    clock=_clock,
    number=formats.format_number,
    signed=formats.format_signed,
    percent=formats.format_percent,
    money=formats.format_money,
    words=_words,
    role=role_name,
    text=i18n.text,
    localize=i18n.localize,
)
templates.env.globals.update(
    STAFF=STAFF,
    OVERSIGHT=OVERSIGHT,
    quote=quote,
    plotly_url=assets.plotly_url(),
    LANGUAGES=i18n.LANGUAGES,
    LANGUAGE_NAMES=NAMES,
    language=i18n.current,
    switch_url=_switch_url,
    text_language=text_language,
)


def page(
    request: Request,
    template: str,
    who: Principal,
    status: int = 200,
    private: bool = True,
    **context: Any,
) -> Response:
    """Render a template in the site layout. `private` pages are never cached; a public page is
    cached publicly only when rendered for an anonymous visitor (the header names who is logged
    in, and a cached copy would also skip the read's audit entry)."""
    response = templates.TemplateResponse(
        request, template, {"who": who, **context}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    shared = not private and who.role == PUBLIC_ROLE
    response.headers["Cache-Control"] = "public, max-age=60" if shared else "no-store"
    response.headers["Vary"] = "Cookie"
    return response


def viewer(request: Request) -> Principal:
    """Who the session cookie says is looking, for the layout of an error page (never
    raises)."""
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal) and known.role != "unknown":
        return known
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return PUBLIC
    svc = service(request)
    try:
        return sessions.resolve(svc.engine, svc.sessions, cookie)
    except SocialCreditError:
        return PUBLIC


def error_page(request: Request, status: int, message: str) -> Response:
    """The error as a page in the reader's language: `message` is localized (a `Message` is
    translated; a plain text is shown as it is)."""
    who = viewer(request)
    message = i18n.localize(message)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = page(
            request,
            "login.html",
            PUBLIC,
            401,
            message=message,
            next=target,
            title=i18n.gettext("Log in"),
        )
        if request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, path="/")  # an ended, expired or forged session
        return response
    title = i18n.gettext(ERROR_TITLES.get(status, N_("Something went wrong")))
    return page(request, "error.html", who, status, title=title, code=status, message=message)


class PageRoute(APIRoute):
    """An HTML page route: errors render as pages instead of the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def render_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except SocialCreditError as error:
                if isinstance(error, Unauthenticated | Forbidden):
                    await refused(request)  # audited like every API refusal
                if isinstance(error, Unauthenticated) and not request.cookies.get(COOKIE):
                    return error_page(request, 401, Message("Log in to see this page."))
                return error_page(request, status_of(error), readable(error))
            except RequestValidationError as error:
                problems = "; ".join(
                    i18n.gettext(
                        "{field}: {reason}",
                        field=".".join(str(p) for p in e.get("loc", ())[1:]),
                        reason=validation_reason(e),
                    )
                    for e in error.errors()
                )
                return error_page(request, 422, problems or Message("the request is not valid"))

        return render_errors
