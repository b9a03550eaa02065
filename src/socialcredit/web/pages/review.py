"""Human review in the browser: the open appeals and repair applications by due date, and one
page per case where a reviewer decides. The same services and rules as `/v1/appeals` and
`/v1/repair` (`require_reviewer`), audited the same way; forms only from this site.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.api.errors import readable, status_of
from socialcredit.errors import Conflict, InvalidInput
from socialcredit.i18n import N_, Message, _
from socialcredit.i18n.formats import format_date
from socialcredit.rights import appeals, repair
from socialcredit.rights.cases import MAX_TEXT, open_case
from socialcredit.rights.wording import reason_text
from socialcredit.sharing.access import require_reviewer
from socialcredit.store.db import writing
from socialcredit.timeutil import now, parse_instant
from socialcredit.web.pages.session import same_site
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CaseId = Annotated[int, Path(ge=1, le=2**62)]
Note = Annotated[str, Form(max_length=MAX_TEXT)]
# A case's status as a word (the stored status stays the machine name).
STATUS_NAMES = {
    "open": N_("open"),
    "upheld": N_("upheld"),
    "overridden": N_("overridden"),
    "approved": N_("approved"),
    "refused": N_("refused"),
}


def _status(status: str) -> str:
    known = STATUS_NAMES.get(status)
    return _(known) if known else status


@router.get("/review")
def review(request: Request, svc: Svc, who: PageCaller) -> Response:
    require_reviewer(who, Message("the review queue"))
    at = now()
    with svc.engine.connect() as conn:
        rows = appeals.queue_rows(conn, at) + repair.queue_rows(conn, at)
    rows.sort(key=lambda r: (r["due_at"], r["kind"], r["id"]))
    svc.log(who, "review.queue", f"{len(rows)} open cases", PURPOSE)
    return page(request, "review.html", who, title=_("Cases to review"), nav="review", rows=rows)


def _appeal_page(
    request: Request, svc: Svc, who: Any, appeal_id: int, message: str | None, status: int = 200
) -> Response:
    found = open_case(
        svc.engine, svc.log, who, appeals.get_appeal, appeal_id, "appeal.read", PURPOSE
    )
    with svc.engine.connect() as conn:
        document = appeals.appeal_document(conn, found, now())
    return page(
        request,
        "review_case.html",
        who,
        status,
        title=_("Appeal {id}", id=found.id),
        nav="review",
        kind="appeal",
        case=document,
        message=message,
        limit=MAX_TEXT,
        rows=[
            (_("Subject"), document["subject"]),
            (
                _("Measure"),
                _(
                    "{measure} (policy {policy})",
                    measure=document["measure"],
                    policy=document["policy"],
                ),
            ),
            (_("Why it applies"), [reason_text(code, None) for code in document["reasons"]]),
            (_("Because of"), document["cause_subject"] or _("the subject's own records")),
            (_("Since"), format_date(document["since"])),
            (_("Grounds"), document["grounds"]),
            (_("Status"), _status(document["status"])),
        ],
    )


@router.get("/review/appeals/{appeal_id}")
def review_appeal(request: Request, svc: Svc, who: PageCaller, appeal_id: CaseId) -> Response:
    require_reviewer(who, Message("deciding appeals"))
    return _appeal_page(request, svc, who, appeal_id, None)


@router.post("/review/appeals/{appeal_id}")
def decide_appeal(
    request: Request,
    svc: Svc,
    who: PageCaller,
    appeal_id: CaseId,
    outcome: Annotated[Literal["uphold", "override"], Form()],
    note: Note = "",
    until: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    same_site(request)
    require_reviewer(who, Message("deciding appeals"))
    try:
        ends: datetime | None = parse_instant(until, "until") if until.strip() else None
        with writing(svc.engine) as conn:
            decided = appeals.decide_appeal(conn, appeal_id, outcome, note, who.name, ends)
    except (InvalidInput, Conflict) as error:
        return _appeal_page(request, svc, who, appeal_id, readable(error), status_of(error))
    svc.log(who, "appeal.decide", f"appeal {decided.id}: {decided.status}", PURPOSE)
    return RedirectResponse(f"/review/appeals/{decided.id}", status_code=303)


def _repair_page(
    request: Request,
    svc: Svc,
    who: Any,
    application_id: int,
    message: str | None,
    status: int = 200,
) -> Response:
    found = open_case(
        svc.engine, svc.log, who, repair.get_application, application_id, "repair.read", PURPOSE
    )
    with svc.engine.connect() as conn:
        document = repair.application_document(conn, found, now())
    return page(
        request,
        "review_case.html",
        who,
        status,
        title=_("Repair application {id}", id=found.id),
        nav="review",
        kind="repair",
        case=document,
        message=message,
        limit=MAX_TEXT,
        rows=[
            (_("Subject"), document["subject"]),
            (
                _("List"),
                _("{list} (policy {policy})", list=document["list"], policy=document["policy"]),
            ),
            (_("On the list since"), format_date(document["listed_since"])),
            (
                _("Proof"),
                _(
                    "record {record} of type {type}",
                    record=document["proof"]["record"],
                    type=document["proof"]["type"],
                ),
            ),
            (_("Status"), _status(document["status"])),
        ],
    )


@router.get("/review/repair/{application_id}")
def review_application(
    request: Request, svc: Svc, who: PageCaller, application_id: CaseId
) -> Response:
    require_reviewer(who, Message("deciding repair applications"))
    return _repair_page(request, svc, who, application_id, None)


@router.post("/review/repair/{application_id}")
def decide_application(
    request: Request,
    svc: Svc,
    who: PageCaller,
    application_id: CaseId,
    outcome: Annotated[Literal["approve", "refuse"], Form()],
    note: Note = "",
) -> Response:
    same_site(request)
    require_reviewer(who, Message("deciding repair applications"))
    try:
        with writing(svc.engine) as conn:
            decided = repair.decide_repair(
                conn, application_id, outcome == "approve", note, who.name
            )
    except (InvalidInput, Conflict) as error:
        return _repair_page(request, svc, who, application_id, readable(error), status_of(error))
    svc.log(who, "repair.decide", f"repair {decided.id}: {decided.status}", PURPOSE)
    return RedirectResponse(f"/review/repair/{decided.id}", status_code=303)
