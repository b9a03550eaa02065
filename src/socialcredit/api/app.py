"""`create_app()`: the FastAPI application, the gate fast path in front of it."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from fastapi import FastAPI

from socialcredit.api import docs, errors
from socialcredit.api.context import Service
from socialcredit.api.gate import FastGate
from socialcredit.api.routers import (
    appeals,
    audit,
    evaluations,
    ingest,
    lists,
    me,
    measures,
    policies,
    repair,
)
from socialcredit.api.routers import subjects as subject_routes
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine, require_ready

DESCRIPTION = """
An open, auditable social credit system. Every score is explained, every access is in a
hash-chained audit log, and every caller sees only what its role allows.

Authenticate with `Authorization: Bearer <key>` (keys come from `scs keys create`). Declare why
you read personal data with `X-Purpose`; it is recorded with the access. Errors always have the
shape `{"error": {"code", "message", "details"}}`.
"""


class Api(FastGate):
    """The ASGI application: FastAPI behind the gate-check fast path."""

    def __init__(self, api: FastAPI, svc: Service) -> None:
        super().__init__(api, svc)
        self.api = api


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
        yield
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
    for module in (ingest, subject_routes, measures, lists, policies, evaluations, me, audit):
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
