"""The access rules. Every surface (HTTP API, web pages) asks these, never its own copy.

| role          | may                                                                      |
|---------------|--------------------------------------------------------------------------|
| admin         | everything                                                               |
| operator      | policies, evaluations, every subject's data, gate checks, dashboards;    |
|               | objections on a subject's behalf, and deciding them                      |
| source        | post records of its own source (and only the types the source may send); |
|               | see and answer the objections about its own records                      |
| relying_party | the gate checks of the measures it was granted; nothing else             |
| subject       | its own data (`/v1/me`, and `/v1/subjects/{own identifier}/...`); file   |
|               | and follow objections to its own records                                 |
| auditor       | read only: the audit log, policies, evaluations, dashboards (aggregates) |
| public        | the lists a policy declares public                                       |
| reviewer      | human review: read every appeal and repair application, and decide them  |

Appeals and repair applications are filed by the subject (its own key) or by staff on its
behalf; staff and reviewers read them all, a subject only its own; reviewers and staff decide.

Checks run before any lookup, so a refusal never tells whether a subject exists.
"""

from __future__ import annotations

from socialcredit.errors import Forbidden, InvalidInput, Unauthenticated
from socialcredit.i18n import Message
from socialcredit.identifiers import parse
from socialcredit.sharing.keys import PUBLIC_ROLE, Principal

STAFF = ("admin", "operator")
OVERSIGHT = ("admin", "operator", "auditor")
# Human review (GDPR Art. 22): the role may be given to operators' own keys, or kept apart.
REVIEWERS = ("admin", "operator", "reviewer")


def require_role(principal: Principal, roles: tuple[str, ...], action: str) -> None:
    """Refuse unless the caller has one of `roles`: Unauthenticated when there is no key at
    all (401: send one), Forbidden when the key's role does not allow it (403)."""
    if principal.role in roles:
        return
    allowed = ", ".join(roles)
    if principal.role == PUBLIC_ROLE:
        raise Unauthenticated(
            Message("{action} needs an API key of role {roles}", action=action, roles=allowed)
        )
    if principal.role[0] in "aeiou":
        raise Forbidden(
            Message(
                "{action} needs a key of role {roles}; this is an {role} key",
                action=action,
                roles=allowed,
                role=principal.role,
            )
        )
    raise Forbidden(
        Message(
            "{action} needs a key of role {roles}; this is a {role} key",
            action=action,
            roles=allowed,
            role=principal.role,
        )
    )


def require_subject(principal: Principal, identifier: str, action: str) -> str:
    """Allow reading one subject's data (`action`, e.g. "subject.report", names what is read in
    messages); returns the canonical identifier."""
    what = Message("reading a subject's data ({action})", action=action)
    if principal.role != "subject":
        require_role(principal, STAFF, what)  # before parsing: the same refusal for any input
    canonical = str(parse(identifier))
    if principal.role == "subject" and canonical not in principal.identifiers:
        raise Forbidden(
            Message(
                "a subject key may read only its own data, not another's ({action})", action=action
            )
        )
    return canonical


def require_own(principal: Principal) -> int:
    """The caller's own subject (the `/v1/me` pages)."""
    if principal.role != "subject" or principal.subject_id is None:
        require_role(principal, ("subject",), "/v1/me")
    assert principal.subject_id is not None
    return principal.subject_id


def require_measure(principal: Principal, measure: str) -> None:
    """Gate checks: staff may run any; a relying party only those it was granted."""
    if principal.role in STAFF:
        return
    if principal.role == "relying_party":
        if principal.measures is not None and measure in principal.measures:
            return
        granted = ", ".join(sorted(principal.measures or ())) or "none"
        raise Forbidden(f"this key may check only the measures it was granted ({granted})")
    require_role(principal, ("admin", "operator", "relying_party"), "a gate check")


def require_source(principal: Principal, source: str | None) -> str:
    """Posting records: a source key posts as its own source only; staff name the source."""
    if principal.role == "source":
        assert principal.source_id is not None
        if source is not None and source != principal.source_id:
            raise Forbidden(
                f"this key posts records of source {principal.source_id} only, not {source}"
            )
        return principal.source_id
    require_role(principal, ("admin", "operator", "source"), "posting records")
    if source is None:
        raise InvalidInput("source", "name the source of the records")
    return source


def require_objector(principal: Principal) -> None:
    """Filing an objection: the subject itself, or staff on its behalf."""
    if principal.role != "subject":
        require_role(
            principal, STAFF, Message("filing an objection (the subject, or staff for it)")
        )


def require_answerer(principal: Principal, source_id: str) -> None:
    """Answering an objection: the source of the record, or staff."""
    if principal.role in STAFF:
        return
    if principal.role == "source" and principal.source_id == source_id:
        return
    if principal.role == "source":
        raise Forbidden(Message("a source answers only the objections about its own records"))
    require_role(principal, ("admin", "operator", "source"), Message("answering an objection"))


def require_case_reader(principal: Principal) -> None:
    """Reading objections at all: staff, sources (their records'), subjects (their own)."""
    require_role(
        principal, ("admin", "operator", "source", "subject"), Message("reading objections")
    )


def may_see_case(principal: Principal, subject_id: int, source_id: str | None) -> bool:
    """Whether one case is the caller's to see: staff any, a subject its own, a source the
    objections about its own records."""
    if principal.role in STAFF:
        return True
    if principal.role == "subject":
        return principal.subject_id == subject_id
    return principal.role == "source" and source_id is not None and principal.source_id == source_id


def require_notices(principal: Principal) -> None:
    """Every subject's notices (`/v1/notices`): staff only. A subject reads its own through
    `/v1/me/notices` (`require_own`)."""
    require_role(principal, STAFF, Message("reading notices"))


def require_reviewer(principal: Principal, action: str) -> None:
    """Reading the review queue and deciding appeals and repair applications."""
    require_role(principal, REVIEWERS, action)


def require_case(principal: Principal, case_subject_id: int, action: str) -> None:
    """Reading one appeal or repair application: its subject, or a reviewer. A subject asking
    about another's case is refused before anything about the case is said."""
    if principal.role == "subject":
        if principal.subject_id != case_subject_id:
            raise Forbidden(
                Message("a subject key may read only its own cases ({action})", action=action)
            )
        return
    require_reviewer(principal, action)
