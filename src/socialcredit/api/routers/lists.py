"""Public lists: only what a policy declares public, only the public fields."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.models import ERRORS, ListPage, PublicList
from socialcredit.outcomes.publish import public_list, public_lists

router = APIRouter(prefix="/v1/lists", tags=["public lists"], responses=ERRORS)


@router.get("", response_model=list[PublicList])
def index(svc: Svc, who: Caller) -> Any:
    """Every public list of the policies in force, with its size. Anyone may read it; a key
    that is sent must be valid (a revoked one is refused here as everywhere)."""
    with svc.engine.connect() as conn:
        return public_lists(conn)


@router.get("/{name}", response_model=ListPage)
def page(
    name: str,
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    policy: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """One page of a public list, newest entries first. Anyone may read it, without a key."""
    with svc.engine.connect() as conn:
        found = public_list(conn, name, policy, page, size)
    svc.log(who, "list.read", f"{found['policy']} {name} page {page}", purpose)
    return found
