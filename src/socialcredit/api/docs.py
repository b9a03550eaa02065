"""`/docs`: Swagger UI served from this server, never from a CDN.

The pages' users are logged in on this origin, so a script fetched from elsewhere could read
what they may read. The Swagger UI files come from the `fastapi-offline` package, and the page
carries a Content-Security-Policy that lets it load only this server's files and call only
this server.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = "/static/docs"
CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def mount(api: FastAPI) -> None:
    files = resources.files("fastapi_offline") / "static"
    api.mount(STATIC, StaticFiles(directory=str(files)), name="docs-static")

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="socialcredit API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
        )
        page.headers["Content-Security-Policy"] = CSP
        return page
