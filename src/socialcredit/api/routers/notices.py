"""Notices: `/v1/notices` (staff, every subject's or one's) and `/v1/me/notices` (a subject's
own). Both read `rights.notices.list_notices` and are audited. What a person reads in a notice
(`headline`, `reason`, the factors' reasons, `contest`) is in the negotiated language (`language`
says which); the machine fields are the same in every language (docs/rights.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.models import ERRORS
from socialcredit.rights.notices import list_notices
from socialcredit.sharing.access import require_notices, require_own
from socialcredit.store.registry import subject_by_id

router = APIRouter(tags=["notices"], responses=ERRORS)
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=2**31)]


@router.get("/v1/notices")
def get_notices(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    subject: Annotated[
        str | None, Query(min_length=1, max_length=220, description="Only this subject's.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Notices, newest first, with their delivery state: every subject's, or one's."""
    require_notices(who)
    if subject is not None:
        found = svc.open_subject(who, subject, "notices.read", purpose)
        with svc.engine.connect() as conn:
            return list_notices(conn, found, limit, offset)
    with svc.engine.connect() as conn:
        page = list_notices(conn, None, limit, offset)
    svc.log(who, "notices.list", f"all notices ({page['total']})", purpose)
    return page


@router.get("/v1/me/notices")
def my_notices(
    svc: Svc, who: Caller, purpose: Purpose, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """What changed for me: measures applied or lifted, list entries and exits, tier changes,
    each with its reasons, its factors, and how to object or appeal by when."""
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        page = list_notices(conn, subject, limit, offset)
    svc.log(who, "me.notices", subject.identifier, purpose)
    return page
