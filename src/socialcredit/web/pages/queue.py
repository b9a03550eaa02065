"""`/queue`: the operator work queue, every open case by due date (`rights.queue`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.i18n import Message, _
from socialcredit.rights.queue import open_cases
from socialcredit.sharing.access import STAFF, require_role
from socialcredit.timeutil import now
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/queue")
def queue(request: Request, svc: Svc, who: PageCaller) -> Response:
    require_role(who, STAFF, Message("the work queue"))
    at = now()
    with svc.engine.connect() as conn:
        cases = open_cases(conn, at)
    svc.log(who, "queue.read", f"{len(cases)} open cases", PURPOSE)
    return page(request, "queue.html", who, title=_("Work queue"), nav="queue", cases=cases, at=at)
