"""Server-rendered pages: dashboards, subject reports, public lists, the citizen portal."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse


def mount(api: FastAPI) -> None:
    @api.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")
