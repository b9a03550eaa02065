"""Static files: the site's CSS and scripts, and plotly.js from the installed plotly package
(never a CDN: the charts work with no internet)."""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"
PLOTLY_PATH = "/static/plotly.min.js"
YEAR = "public, max-age=31536000, immutable"


@cache
def plotly_js() -> tuple[bytes, bytes, str]:
    """plotly.min.js, gzipped once, and its ETag."""
    raw = (files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return raw, gzip.compress(raw, 6, mtime=0), f'"{hashlib.sha256(raw).hexdigest()[:16]}"'


def plotly_url() -> str:
    """The script's address, versioned so that a long cache is safe across upgrades."""
    return f"{PLOTLY_PATH}?v={version('plotly')}"


def mount(api: FastAPI) -> None:
    @api.get(PLOTLY_PATH, include_in_schema=False)
    def plotly_script(request: Request) -> Response:
        raw, zipped, etag = plotly_js()
        headers = {"Cache-Control": YEAR, "ETag": etag, "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(zipped, media_type="text/javascript", headers=headers)
        return Response(raw, media_type="text/javascript", headers=headers)

    api.mount("/static", StaticFiles(directory=STATIC), name="static")
