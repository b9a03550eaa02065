"""`create_app()`: the FastAPI application, the gate fast path in front of it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import sqlalchemy as sa
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from socialcredit.api import docs, errors
from socialcredit.api.bounds import BodyLimit
from socialcredit.api.context import Service
from socialcredit.api.gate import FastGate
from socialcredit.api.language import LanguageMiddleware
from socialcredit.api.routers import (
    appeals,
    audit,
    evaluations,
    ingest,
    jobs,
    lists,
    live,
    me,
    measures,
    notices,
    objections,
    policies,
    repair,
)
from socialcredit.api.routers import subjects as subject_routes
from socialcredit.api.throttle import Throttle
from socialcredit.audit.checkpoint import checkpoint_after
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine, require_ready

log = logging.getLogger("socialcredit.audit")

DESCRIPTION = """
An open, auditable social credit system. Every score is explained, every access is in a
hash-chained audit log, and every caller sees only what its role allows.

Authenticate with `Authorization: Bearer <key>` (keys come from `scs keys create`). Declare why
you read personal data with `X-Purpose`; it is recorded with the access. Errors always have the
shape `{"error": {"code", "message", "details"}}`.
"""


class Api(FastGate):
    """The ASGI application: behind a named TLS proxy, its forwarded headers first (so that
    everything after sees the real client); then the gate-check fast path (which applies the
    rate limits to its own requests), the reader's language, the rate limits, the bound on
    bodies, and FastAPI."""

    def __init__(self, api: FastAPI, svc: Service) -> None:
        # The gate check reads no body: only what passes it to FastAPI is bounded.
        # The language is chosen outside the limits and FastAPI's own error handling, so that a
        # 413, a 429 and a 500 speak it too; the gate's fast path stays outside (machine answers).
        bounded = BodyLimit(AfterWrite(api, svc), svc.settings.max_body_bytes)
        super().__init__(LanguageMiddleware(Throttle(bounded, svc)), svc)
        self.api = api
        proxies = svc.settings.trusted_proxies
        # Believe X-Forwarded-Proto (the session cookie is Secure, the login form's origin check
        # sees https) and X-Forwarded-For (the limits count the real client) from these peers
        # only, before anything reads the client's address.
        self._front: ASGIApp | None = None
        if proxies:  # uvicorn's and Starlette's ASGI types differ in name only
            front = ProxyHeadersMiddleware(cast(Any, self._served), trusted_hosts=proxies)
            self._front = cast(ASGIApp, front)

    async def _served(self, scope: Scope, receive: Receive, send: Send) -> None:
        await FastGate.__call__(self, scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._front is not None:
            await self._front(scope, receive, send)
        else:
            await FastGate.__call__(self, scope, receive, send)


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AfterWrite:
    """Tell `svc.after_write` once a request that may have written to the store has been
    answered with success (records, objections, appeals, overrides, imports: the service's
    log writes). Pure ASGI: reads pass through untouched."""

    def __init__(self, app: ASGIApp, svc: Service) -> None:
        self.app, self.svc = app, svc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, sending)
        hook = self.svc.after_write
        if hook is not None and status < 400:
            hook()


def start_refresher(app: Api) -> Any:
    """Run real-time refreshes beside `app` (`outcomes.refresher`): after each write it
    accepts, and the re-base on schedule; the gate index is poked after each. Returns the
    started `Refresher` (stop it when the app stops)."""
    from socialcredit.outcomes.refresher import Refresher

    svc = app.svc
    refresher = Refresher(svc.engine, svc.settings, on_change=svc.gate.poke)
    svc.after_write = refresher.nudge
    refresher.start()
    refresher.nudge()  # catch up with what was written while no service ran
    return refresher


async def sign_checkpoints(svc: Service, every: float) -> None:
    """Sign a checkpoint of the audit log at start and then every `every` seconds (when it
    grew), in a thread: hashing new entries never blocks the event loop."""
    while True:
        try:
            await asyncio.to_thread(checkpoint_after, svc.engine, svc.settings, "the schedule")
        except Exception:  # a store that is down now must not end the schedule (logged)
            log.exception("no audit checkpoint signed on schedule")
        await asyncio.sleep(every)


async def sweep_refusals(svc: Service) -> None:
    """Write the counts of repeated refusals as their windows close (a window is also closed
    by the next refusal that comes after it; this writes those after which none came)."""
    while True:
        await asyncio.sleep(svc.tally.window / 2)
        for entry in svc.tally.close():
            await svc.audit.record(entry)


def create_app(settings: Settings | None = None, engine: sa.Engine | None = None) -> Api:
    settings = settings or Settings()
    engine = engine or create_engine(settings)
    require_ready(engine)
    svc = Service.open(settings, engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load the gate index before the first check, then move everything alive now (the
        # modules, the app, the index) out of the garbage collector's sight: full collections
        # then scan only what requests create, which keeps them from stalling a busy server.
        svc.gate.warm()
        gc.freeze()
        every = svc.settings.audit_checkpoint_seconds
        signer = asyncio.create_task(sign_checkpoints(svc, every)) if every > 0 else None
        sweeper = asyncio.get_running_loop().create_task(sweep_refusals(svc))
        yield
        sweeper.cancel()
        if signer is not None:
            signer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await signer
        for entry in svc.tally.close(math.inf):  # the counts of the windows still open
            await svc.audit.record(entry)
        svc.jobs.close()
        svc.audit.close()

    api = FastAPI(
        lifespan=lifespan,
        title="socialcredit",
        version="1",
        description=DESCRIPTION,
        docs_url=None,  # served by api.docs, from this server
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    api.state.service = svc
    errors.install(api)
    modules = (
        ingest,
        subject_routes,
        measures,
        lists,
        policies,
        evaluations,
        jobs,
        me,
        notices,
        objections,
        audit,
        live,
    )
    for module in modules:
        api.include_router(module.router)
    for cases in (appeals, repair):
        api.include_router(cases.router)
    docs.mount(api)
    # Imported here: the pages import the API's dependencies, so importing them at the top
    # would make `import socialcredit.web` alone circular.
    from socialcredit.web import mount as mount_web

    mount_web(api)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return Api(api, svc)
