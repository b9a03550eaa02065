"""Every request in its reader's language (`socialcredit.i18n.languages`).

An ASGI middleware: it picks the language (`?lang=`, the `scs_lang` cookie, Accept-Language),
uses it for the whole request (pages, notices, the API's human-readable fields, errors), and
says so: `Content-Language`, and `Vary: Accept-Language` (a cache must not serve one reader's
language to another). A valid `?lang=` is also remembered in the cookie, which is how the
header's switcher works without a script.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialcredit.i18n.languages import COOKIE, language_of, negotiate, use

YEAR = 365 * 24 * 3600
# The same bytes in every language (scripts, styles, the favicon): no Vary, so caches keep one.
UNVARYING = ("/static/",)


def _cookie(header: str) -> str | None:
    return cookie_parser(header).get(COOKIE) if header else None


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNVARYING):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        asked = language_of(query.get("lang"))
        cookie = _cookie(headers.get("cookie", ""))
        language = negotiate(asked, cookie, headers.get("accept-language"))

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.setdefault("Content-Language", language)
                vary = [v.strip() for v in out.get("Vary", "").split(",") if v.strip()]
                if "accept-language" not in (v.lower() for v in vary):
                    vary.append("Accept-Language")
                out["Vary"] = ", ".join(vary)
                if asked:
                    out.append(
                        "Set-Cookie",
                        f"{COOKIE}={asked}; Path=/; Max-Age={YEAR}; SameSite=Lax",
                    )
            await send(message)

        with use(language):
            await self.app(scope, receive, send_with_language)
