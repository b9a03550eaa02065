"""The portal's due-process actions: appeal a decision, apply for credit repair, and follow each
case on its timeline. The same services and rules as `/v1/me/appeals` and `/v1/me/repair`
(`rights.appeals`, `rights.repair`, `require_own`), audited the same way; forms are accepted
only from this site (`session.same_site`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from socialcredit.api.auth import PageCaller, Svc
from socialcredit.api.errors import status_of
from socialcredit.errors import Conflict, InvalidInput, NotFound, SocialCreditError
from socialcredit.i18n import N_, _, localize
from socialcredit.i18n.formats import format_date
from socialcredit.rights import appeals, repair
from socialcredit.rights.cases import MAX_TEXT, open_case
from socialcredit.rights.wording import reason_text
from socialcredit.sharing.access import require_own
from socialcredit.store.db import writing
from socialcredit.store.registry import subject_by_id
from socialcredit.timeutil import now
from socialcredit.web.pages.session import same_site
from socialcredit.web.render import PURPOSE, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Name = Annotated[str, Query(min_length=1, max_length=64)]
FormName = Annotated[str, Form(min_length=1, max_length=64)]
CaseId = Annotated[int, Path(ge=1, le=2**62)]
# What a person reads when a filing is refused: the service's own sentence (it names the field or
# the term not met); the form stays filled in so nothing typed is lost.
REFUSALS = (InvalidInput, Conflict, NotFound)
# The form fields a refusal may name, as a person reads them (the English is the field's name,
# so an English page reads exactly as the API's message does).
FIELDS = {
    "grounds": N_("grounds"),
    "record": N_("record"),
    "evidence": N_("evidence"),
    "subject": N_("subject"),
    "note": N_("note"),
    "corrected_by": N_("corrected_by"),
    "answer": N_("answer"),
}


def refusal(error: SocialCreditError) -> str:
    """A service's refusal in the reader's language: its `Message` translated, and for bad
    input the field it names too."""
    if isinstance(error, InvalidInput) and error.field and error.field in FIELDS:
        return _("{field}: {reason}", field=_(FIELDS[error.field]), reason=localize(error.reason))
    return localize(error.message)


def my_cases(conn: Any, subject_id: int) -> list[dict[str, Any]]:
    """The subject's appeals and repair applications for `/me`, by due date."""
    at = now()
    rows = [
        {
            "what": _("Appeal of {measure} ({policy})", measure=_words(a.measure), policy=a.policy),
            "url": f"/me/appeals/{a.id}",
            "status": a.status,
            "due_at": a.due_at,
            "overdue": a.overdue(at),
        }
        for a in appeals.list_appeals(conn, at, None, subject_id)
    ]
    rows += [
        {
            "what": _(
                "Credit repair: {list} ({policy})", list=_words(r.list_name), policy=r.policy
            ),
            "url": f"/me/repair/{r.id}",
            "status": r.status,
            "due_at": r.due_at,
            "overdue": r.overdue(at),
        }
        for r in repair.list_applications(conn, at, None, subject_id)
    ]
    return sorted(rows, key=lambda r: r["due_at"])


def _words(slug: str) -> str:
    return slug.replace("_", " ")


STATUS = {
    "open": N_("open"),
    "upheld": N_("upheld"),
    "overridden": N_("overridden"),
    "approved": N_("approved"),
    "refused": N_("refused"),
}


def status_words(status: str) -> str:
    """A case's status as a person reads it."""
    return _(STATUS[status]) if status in STATUS else status


@router.get("/me/appeal")
def appeal_form(
    request: Request,
    svc: Svc,
    who: PageCaller,
    policy: Name,
    measure: Name,
    cause: Annotated[str | None, Query(max_length=220)] = None,
) -> Response:
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
    svc.log(who, "me.appeal.form", subject.identifier, PURPOSE)
    return _appeal_page(request, who, policy, measure, cause, "", None)


def _appeal_page(
    request: Request,
    who: Any,
    policy: str,
    measure: str,
    cause: str | None,
    grounds: str,
    message: str | None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "appeal_form.html",
        who,
        status,
        title=_("Appeal a decision"),
        nav="me",
        policy=policy,
        measure=measure,
        cause=cause,
        grounds=grounds,
        message=message,
        days=appeals.DECISION_DAYS,
        limit=MAX_TEXT,
    )


@router.post("/me/appeal")
def file_appeal(
    request: Request,
    svc: Svc,
    who: PageCaller,
    policy: FormName,
    measure: FormName,
    grounds: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    cause: Annotated[str, Form(max_length=220)] = "",
) -> Response:
    same_site(request)
    try:
        with writing(svc.engine) as conn:
            subject = subject_by_id(conn, require_own(who))
            appeal = appeals.file_appeal(
                conn, subject, policy, measure, grounds, who.name, cause or None
            )
    except REFUSALS as error:
        message = refusal(error)
        svc.log(who, "appeal.file", f"{measure}: refused", PURPOSE, "refused")
        return _appeal_page(
            request, who, policy, measure, cause, grounds, message, status_of(error)
        )
    svc.log(who, "appeal.file", f"appeal {appeal.id}: {subject.identifier}", PURPOSE)
    return RedirectResponse(f"/me/appeals/{appeal.id}", status_code=303)


@router.get("/me/appeals/{appeal_id}")
def my_appeal(request: Request, svc: Svc, who: PageCaller, appeal_id: CaseId) -> Response:
    require_own(who)
    found = open_case(
        svc.engine, svc.log, who, appeals.get_appeal, appeal_id, "appeal.read", PURPOSE
    )
    with svc.engine.connect() as conn:
        document = appeals.appeal_document(conn, found, now())
    return page(
        request,
        "case.html",
        who,
        title=_("Appeal {appeal}", appeal=found.id),
        nav="me",
        heading=_("Appeal of {measure}", measure=_words(document["measure"])),
        case=document,
        rows=[
            (_("Policy"), document["policy"]),
            (
                _("Why the measure applies"),
                [reason_text(code, None) for code in document["reasons"]],
            ),
            (_("Because of"), document["cause_subject"] or _("your own records")),
            (_("Your grounds"), document["grounds"]),
            (_("Status"), status_words(document["status"])),
            (_("Reviewer's note"), document["note"] or _("not decided yet")),
        ],
    )


@router.get("/me/repair")
def repair_form(request: Request, svc: Svc, who: PageCaller, policy: Name, list: Name) -> Response:
    with svc.engine.connect() as conn:
        subject = subject_by_id(conn, require_own(who))
        try:
            _, terms = repair.repair_terms(conn, policy, list)
        except REFUSALS as error:
            return _repair_page(request, who, policy, list, None, refusal(error), status_of(error))
    svc.log(who, "me.repair.form", subject.identifier, PURPOSE)
    return _repair_page(request, who, policy, list, terms.repair, None)


def _repair_page(
    request: Request,
    who: Any,
    policy: str,
    list_name: str,
    terms: Any,
    message: str | None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "repair_form.html",
        who,
        status,
        title=_("Apply for credit repair"),
        nav="me",
        policy=policy,
        list_name=list_name,
        terms=terms,
        message=message,
        days=repair.DECISION_DAYS,
    )


@router.post("/me/repair")
def apply_for_repair(
    request: Request, svc: Svc, who: PageCaller, policy: FormName, list: FormName
) -> Response:
    same_site(request)
    try:
        with writing(svc.engine) as conn:
            subject = subject_by_id(conn, require_own(who))
            found = repair.apply_for_repair(conn, subject, policy, list, who.name)
    except REFUSALS as error:
        svc.log(who, "repair.apply", f"{list}: refused", PURPOSE, "refused")
        return _repair_page(request, who, policy, list, None, refusal(error), status_of(error))
    svc.log(who, "repair.apply", f"repair {found.id}: {subject.identifier}", PURPOSE)
    return RedirectResponse(f"/me/repair/{found.id}", status_code=303)


@router.get("/me/repair/{application_id}")
def my_application(request: Request, svc: Svc, who: PageCaller, application_id: CaseId) -> Response:
    require_own(who)
    found = open_case(
        svc.engine, svc.log, who, repair.get_application, application_id, "repair.read", PURPOSE
    )
    with svc.engine.connect() as conn:
        document = repair.application_document(conn, found, now())
    return page(
        request,
        "case.html",
        who,
        title=_("Repair application {application}", application=found.id),
        nav="me",
        heading=_("Credit repair: leaving {list}", list=_words(document["list"])),
        case=document,
        rows=[
            (_("Policy"), document["policy"]),
            (_("On the list since"), format_date(document["listed_since"])),
            (
                _("Proof"),
                _(
                    "{type} ({record})",
                    type=document["proof"]["type"],
                    record=document["proof"]["record"],
                ),
            ),
            (_("Status"), status_words(document["status"])),
            (_("Reviewer's note"), document["note"] or _("not decided yet")),
        ],
    )
