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
from socialcredit.errors import NotFound
from socialcredit.identifiers import parse
from socialcredit.reports import explain_subject, report_document
from socialcredit.rights.access import subject_history, subject_relationships, subject_scores
from socialcredit.sharing.access import STAFF, require_role
from socialcredit.store.policies import get_policy
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
    """Everything the report page shows, from the same services as `/v1/.../report`."""
    standing = subject_scores(conn, subject, standing_first=True)
    if not standing:
        raise NotFound("no policy in force has a current evaluation")
    if policy is None:
        policy = standing[0]["policy"]
    chosen = next((s for s in standing if s["policy"] == policy), None)
    if chosen is None:
        raise NotFound(f"policy {policy!r} is not in force or has no current evaluation")
    explained = report_document(explain_subject(conn, subject.identifier, policy))
    document = get_policy(conn, policy, explained["policy_version"]).policy
    relationships = subject_relationships(conn, subject)
    kinds: dict[str, list[str]] = {}
    for r in relationships:
        other = r["to"] if r["from"] == subject.identifier else r["from"]
        kinds.setdefault(other, []).append(r["kind"])
    figures: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    if explained["score"] is not None:
        figures["gauge"] = charts.gauge(explained["score"], document)
        figures["categories"] = charts.categories(explained["categories"], document.model)
        history = subject_history(conn, subject, policy)
        if sum(1 for h in history if h["score"] is not None) > 1:
            figures["history"] = charts.history(history)
    lowering = explained["lowering"]
    return {
        "title": f"{subject.name} · {policy}",
        "subject": subject,
        "standing": standing,
        "chosen": chosen,
        "policy": document,
        "report": explained,
        "lowering": lowering,
        "raising": [f for f in explained["factors"] if f["effect"] > 0],
        "also_lowering": [f for f in explained["factors"] if f["effect"] < 0 and f not in lowering],
        "relationships": relationships,
        "relationship_kinds": kinds,
        "figures": figures,
    }
