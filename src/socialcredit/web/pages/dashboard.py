"""The operator dashboard: per policy, the aggregates of its current evaluation.

Operators, admins and auditors may see it (aggregates). The shortlists of subjects, which are
personal data and link to subject reports, are for staff only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.errors import NotFound
from socialcredit.i18n import Message, _
from socialcredit.outcomes.dashboard import (
    latest_listed,
    lowest_scores,
    policy_dashboard,
    summaries,
)
from socialcredit.sharing.access import OVERSIGHT, STAFF, require_role
from socialcredit.store.policies import get_policy
from socialcredit.web import charts
from socialcredit.web.pages.live import live_context
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/dashboard")
def dashboard(
    request: Request,
    svc: Svc,
    who: PageCaller,
    policy: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Response:
    require_role(who, OVERSIGHT, Message("the dashboard"))
    live = live_context(svc, who)
    with svc.engine.connect() as conn:
        overview = summaries(conn)
        evaluated = [s for s in overview if s.evaluation is not None]
        if policy is None:
            if not evaluated:
                return page(
                    request,
                    "dashboard.html",
                    who,
                    title=_("Dashboard"),
                    nav="dashboard",
                    overview=overview,
                    board=None,
                    **live,
                )
            policy = evaluated[0].name
        stored = get_policy(conn, policy)
        if not any(s.name == stored.name for s in evaluated):
            raise NotFound(
                Message(
                    "policy {policy} has no current evaluation; run `scs evaluate`", policy=policy
                )
            )
        board = policy_dashboard(conn, stored)
        staff = who.role in STAFF
        shortlist = {
            "lowest": lowest_scores(conn, board.evaluation.id) if staff else [],
            "listed": latest_listed(conn, board.evaluation.id) if staff else [],
        }
    svc.log(who, "dashboard.read", f"{stored.name} evaluation {board.evaluation.id}", PURPOSE)
    document = stored.policy
    # each tier's label, when the policy gives one (a word in the reader's language: `| text`)
    tier_labels = {t.name: getattr(t, "label", None) for t in document.tiers}
    figures = {
        "trend": charts.trend(board.trend, document.scores),
        "measures": charts.measures_by_authority(board.measures),
    }
    if document.scores:
        figures["histogram"] = charts.histogram(board.histogram, document)
        figures["tiers"] = charts.tiers(board.tiers, document)
        figures["regions"] = charts.regions(board.regions)
    if board.lists:
        figures["lists"] = charts.lists(board.lists)
    return page(
        request,
        "dashboard.html",
        who,
        title=_("Dashboard · {policy}", policy=stored.name),
        nav="dashboard",
        overview=overview,
        board=board,
        figures=figures,
        shortlist=shortlist,
        tier_labels=tier_labels,
        **live,
    )
