"""A subject's report: why it has its score under a policy, record by record, its lists and
measures, and the relationships that shaped its network category.

Staff may open any subject; a subject key only its own (the same `require_subject` as the API,
audited the same way, refusals included). `/me/report` renders the same page.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.identifiers import parse
from socialcredit.rights.reports import report_view
from socialcredit.sharing.access import STAFF, require_role
from socialcredit.store.registry import Subject
from socialcredit.web import charts
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PolicyQuery = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/subjects")
def find(
    who: PageCaller, identifier: Annotated[str, Query(min_length=1, max_length=220)]
) -> Response:
    """The dashboard's search box: go to the subject's report."""
    require_role(who, STAFF, "opening a subject")
    canonical = str(parse(identifier.strip()))
    return RedirectResponse(f"/subjects/{canonical}", status_code=303)


@router.get("/subjects/{identifier}")
def report(
    request: Request, identifier: str, svc: Svc, who: PageCaller, policy: PolicyQuery = None
) -> Response:
    subject = svc.open_subject(who, identifier, "subject.report", PURPOSE)
    with svc.engine.connect() as conn:
        context = report_context(conn, subject, policy)
    return page(
        request,
        "report.html",
        who,
        nav="subjects",
        base=f"/subjects/{subject.identifier}",
        **context,
    )


def report_context(conn: sa.Connection, subject: Subject, policy: str | None) -> dict[str, Any]:
    """The report page's context: the subject's report (`rights.reports.report_view`) and the
    figures drawn from it."""
    context = report_view(conn, subject, policy)
    explained, document = context["report"], context["policy"]
    figures: dict[str, Any] = {}
    if explained["score"] is not None:
        figures["gauge"] = charts.gauge(explained["score"], document)
        figures["categories"] = charts.categories(explained["categories"], document.model)
        if sum(1 for h in context["history"] if h["score"] is not None) > 1:
            figures["history"] = charts.history(context["history"])
    return {**context, "figures": figures}
