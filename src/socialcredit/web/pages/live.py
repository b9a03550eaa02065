"""The dashboard's live section: its context for the page, and its event stream.

`GET /dashboard/live` is a server-sent event stream (`text/event-stream`) with the dashboard's
access rules: every second, and as soon as something changed (an evaluation, a refresh or a
notice; asked four times a second), it sends the section's parts rendered by the same macros as
the page (`templates/_live.html`) in the reader's language, and, for staff, a sentence about the
decisions that changed since the last event (for the page's aria-live region; the event's `id`
is the newest notice told, which the browser sends back as `Last-Event-ID` when it reconnects).

It ends by itself when the client goes away (Starlette cancels it), when the server shuts down
(the protocol's `SHUTDOWN` extension, `api.bounds`), and when the session that opened it is no
longer valid (checked every `SESSION_CHECK` seconds without counting as a use): then it sends
`event: end`, and the page stops updating and says so.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.responses import StreamingResponse

from socialcredit import i18n
from socialcredit.api.auth import COOKIE, PageCaller, Svc
from socialcredit.api.bounds import SHUTDOWN
from socialcredit.api.context import Service
from socialcredit.errors import Unauthenticated
from socialcredit.i18n import Message, _, ngettext
from socialcredit.outcomes.live import (
    DecisionChange,
    LiveView,
    change_marker,
    decisions_after,
    live_view,
)
from socialcredit.sharing import sessions
from socialcredit.sharing.access import OVERSIGHT, require_role
from socialcredit.sharing.keys import Principal
from socialcredit.timeutil import now
from socialcredit.web.render import PURPOSE, templates

router = APIRouter(include_in_schema=False)

TICK = 1.0  # a snapshot at least this often
POLL = 0.25  # how often the store is asked whether anything changed
SESSION_CHECK = 15.0  # how often the session is checked again
RETRY_MS = 2000  # how long the browser waits before it reconnects
PARTS = ("stats", "freshness", "decisions")


def live_context(svc: Service, who: Principal) -> dict[str, Any]:
    """What the dashboard template needs for the live section (`live`, `live_after`)."""
    stream = svc.stream.get()
    with svc.engine.connect() as conn:
        view = live_view(conn, who, now(), stream)
    return {"live": view, "live_after": _newest(view, 0)}


def _newest(view: LiveView, seen: int) -> int:
    return max([seen, *(d.notice for d in view.decisions or [])])


def announcement(new: list[DecisionChange], total: int) -> str:
    """What a screen reader hears about the decisions that changed since the last event: each
    of up to three, else how many and the newest (never more than one short paragraph)."""
    if total == 0 or not new:
        return ""
    sentences = [_sentence(d) for d in new[:3]]
    if total <= 3:
        return " ".join(sentences)
    return ngettext(
        "{n} decision changed; the newest: {sentence}",
        "{n} decisions changed; the newest: {sentence}",
        total,
        sentence=sentences[0],
    )


def _sentence(d: DecisionChange) -> str:
    if d.applied:
        return _(
            "{measure} applied to {name} ({policy}).",
            measure=d.measure_text,
            name=d.name,
            policy=d.policy,
        )
    return _(
        "{measure} lifted for {name} ({policy}).",
        measure=d.measure_text,
        name=d.name,
        policy=d.policy,
    )


def render_parts(view: LiveView) -> dict[str, str]:
    """The section's parts as the page shows them (in the language in use)."""
    module = templates.env.get_template("_live.html").make_module({})
    names = PARTS if view.decisions is not None else PARTS[:2]
    return {name: str(getattr(module, f"live_{name}")(view)) for name in names}


def snapshot(svc: Service, who: Principal, language: str, seen: int) -> tuple[bytes, int]:
    """One event: the parts, and what to announce about decisions after notice `seen`; with
    the newest notice told (the next event's `seen`)."""
    stream = svc.stream.get()
    with svc.engine.connect() as conn:
        view = live_view(conn, who, now(), stream)
        total = decisions_after(conn, seen) if view.decisions is not None else 0
    with i18n.use(language):
        new = [d for d in view.decisions or [] if d.notice > seen]
        document = {"parts": render_parts(view), "announce": announcement(new, total)}
    told = _newest(view, seen)
    data = orjson.dumps(document).decode()
    return f"id: {told}\nevent: live\ndata: {data}\n\n".encode(), told


def _still_valid(svc: Service, cookie: str) -> bool:
    try:
        sessions.resolve(svc.engine, svc.sessions, cookie, touch=False)
    except Unauthenticated:
        return False
    return True


async def _stopped(stopping: asyncio.Event | None, seconds: float) -> bool:
    """Wait `seconds`; True as soon as the server shuts down."""
    if stopping is None:
        await asyncio.sleep(seconds)
        return False
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def events(
    svc: Service,
    who: Principal,
    cookie: str,
    language: str,
    seen: int,
    stopping: asyncio.Event | None,
) -> AsyncIterator[bytes]:
    yield f"retry: {RETRY_MS}\n\n".encode()
    marker: tuple[int, int, int] | None = None
    sent = checked = -math.inf
    while stopping is None or not stopping.is_set():
        moment = time.monotonic()
        if moment - checked >= SESSION_CHECK:
            if not await asyncio.to_thread(_still_valid, svc, cookie):
                yield b"event: end\ndata: session\n\n"
                return
            checked = moment
        current = await asyncio.to_thread(_marker, svc)
        if current != marker or moment - sent >= TICK:
            frame, seen = await asyncio.to_thread(snapshot, svc, who, language, seen)
            yield frame
            marker, sent = current, moment
        if await _stopped(stopping, POLL):
            break


def _marker(svc: Service) -> tuple[int, int, int]:
    with svc.engine.connect() as conn:
        return change_marker(conn)


@router.get("/dashboard/live")
def live_events(
    request: Request,
    svc: Svc,
    who: PageCaller,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """The live section's event stream (see the module)."""
    require_role(who, OVERSIGHT, Message("the dashboard"))
    seen = after
    if last_event_id is not None and last_event_id.isdigit():
        seen = max(seen, int(last_event_id))
    svc.log(who, "dashboard.live", "the live section's event stream", PURPOSE)
    found = (request.scope.get("extensions") or {}).get(SHUTDOWN) or {}
    stopping = found.get("event") if isinstance(found.get("event"), asyncio.Event) else None
    cookie = request.cookies.get(COOKIE) or ""
    return StreamingResponse(
        events(svc, who, cookie, i18n.current(), seen, stopping),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
