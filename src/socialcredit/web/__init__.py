"""Server-rendered pages: dashboards, subject reports, public lists, the citizen portal.

The pages call the same services as `/v1` and authorize with the same rules
(`sharing.access`); they authenticate with the session the login form starts (`scs_session` cookie).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from socialcredit.api.errors import allowed_methods, http_message
from socialcredit.i18n import Message
from socialcredit.web import assets
from socialcredit.web.pages import (
    cases,
    dashboard,
    live,
    me,
    objections,
    public,
    queue,
    review,
    session,
    subjects,
)
from socialcredit.web.render import error_page

API_PATHS = ("/v1", "/docs", "/openapi.json", "/healthz")


def mount(api: FastAPI) -> None:
    assets.mount(api)
    for module in (
        public,
        session,
        dashboard,
        live,
        subjects,
        me,
        objections,
        queue,
        cases,
        review,
    ):
        api.include_router(module.router)
    _html_not_found(api)


def _html_not_found(api: FastAPI) -> None:
    """Unknown page paths answer with a page for browsers; the API keeps its JSON errors."""
    json_handler = api.exception_handlers[HTTPException]

    async def handler(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        browser = "text/html" in request.headers.get("accept", "")
        if browser and not request.url.path.startswith(API_PATHS):
            message = (
                Message("There is no page here.")
                if error.status_code == 404
                else http_message(error.status_code, str(error.detail))
            )
            page = error_page(request, error.status_code, message)
            if error.status_code == 405:
                page.headers["Allow"] = allowed_methods(request)
            return page
        response = json_handler(request, error)
        assert not isinstance(response, Response)  # the API's handlers are coroutines
        return await response

    api.add_exception_handler(HTTPException, handler)
