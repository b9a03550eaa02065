"""Pages anyone may read: the landing page and the public lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.i18n import _, text
from socialcredit.outcomes.publish import public_list, public_lists
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50


@router.get("/")
def landing(request: Request, svc: Svc, who: PageCaller) -> Response:
    with svc.engine.connect() as conn:
        found = public_lists(conn)
    return page(request, "landing.html", who, lists=found, title=_("Open, auditable social credit"))


@router.get("/lists")
def lists(request: Request, svc: Svc, who: PageCaller) -> Response:
    with svc.engine.connect() as conn:
        found = public_lists(conn)
    return page(request, "lists.html", who, lists=found, title=_("Public lists"), nav="lists")


@router.get("/lists/{name}")
def public_list_page(
    request: Request,
    name: str,
    svc: Svc,
    who: PageCaller,
    policy: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Response:
    with svc.engine.connect() as conn:
        found = public_list(conn, name, policy, number, PAGE_SIZE)
        about = next(
            (
                li
                for li in public_lists(conn)
                if li["list"] == name and li["policy"] == found["policy"]
            ),
            None,
        )
    svc.log(who, "list.read", f"{found['policy']} {name} page {number}", PURPOSE)
    pages = max(1, -(-found["total"] // PAGE_SIZE))
    label = about.get("label") if about else None  # a list's own name, when the policy gives one
    return page(
        request,
        "list.html",
        who,
        private=False,
        listing=found,
        about=about,
        pages=pages,
        title=text(label) if label else name.replace("_", " ").capitalize(),
        nav="lists",
    )
