"""The citizen portal: a subject logs in with its own key and sees its own data only.

The same services and the same rule (`require_own`) as `/v1/me`, audited the same way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.i18n import _
from socialcredit.rights.notices import list_notices
from socialcredit.rights.objections import list_objections
from socialcredit.rights.subject_data import subject_document, subject_records, subject_scores
from socialcredit.sharing.access import require_own
from socialcredit.store.policies import get_policy
from socialcredit.store.registry import subject_by_id
from socialcredit.web import charts
from socialcredit.web.pages.cases import my_cases
from socialcredit.web.pages.subjects import PolicyQuery, report_context
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RECORDS_PAGE = 50
PREVIEW = 10


@router.get("/me")
def me(request: Request, svc: Svc, who: PageCaller) -> Response:
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        standing = subject_scores(conn, subject, standing_first=True)
        records = subject_records(conn, subject, PREVIEW, 0)
        objections = list_objections(conn, who, subject_id=subject.id)
        notices = list_notices(conn, subject, PREVIEW, 0)
        cases = my_cases(conn, subject.id)
        policies = {
            s["policy"]: get_policy(conn, s["policy"], s["policy_version"]).policy for s in standing
        }
    svc.log(who, "me.read", subject.identifier, PURPOSE)
    gauges = {
        s["policy"]: charts.gauge(s["score"], policies[s["policy"]])
        for s in standing
        if s["score"] is not None
    }
    return page(
        request,
        "me.html",
        who,
        title=_("My data"),
        nav="me",
        subject=subject,
        document=subject_document(subject),
        standing=standing,
        records=records,
        objections=objections,
        notices=notices,
        cases=cases,
        figures={f"gauge-{name}": figure for name, figure in gauges.items()},
    )


@router.get("/me/report")
def my_report(request: Request, svc: Svc, who: PageCaller, policy: PolicyQuery = None) -> Response:
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        context = report_context(conn, subject, policy)
    svc.log(who, "me.report", subject.identifier, PURPOSE)
    return page(request, "report.html", who, nav="me", base="/me/report", **context)


@router.get("/me/records")
def my_records(
    request: Request,
    svc: Svc,
    who: PageCaller,
    number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Response:
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        found = subject_records(conn, subject, RECORDS_PAGE, (number - 1) * RECORDS_PAGE)
    svc.log(who, "me.records", subject.identifier, PURPOSE)
    pages = max(1, -(-found["total"] // RECORDS_PAGE))
    return page(
        request,
        "records.html",
        who,
        title=_("My records"),
        nav="me",
        subject=subject,
        records=found,
        number=number,
        pages=pages,
    )
