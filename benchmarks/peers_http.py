"""The peers of the gate-check benchmark: the least an HTTP endpoint can do on this stack.

`fastapi_app` is a bare FastAPI endpoint returning a constant; `raw_app` is a raw ASGI app
returning the same constant. Both are served exactly like the real service (uvicorn, uvloop,
httptools, one process), so the ratios measure what the gate check itself costs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

BODY = b'{"applies":false}'

fastapi_app = FastAPI()


@fastapi_app.get("/v1/measures/{name}/check")
async def constant(name: str) -> dict[str, Any]:
    return {"applies": False}


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan: accept start-up and shutdown
        message = await receive()
        while message["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
