"""What appeals and repair applications share: their text fields, timelines, and how a surface
opens one case (authorize, find, audit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from socialcredit.errors import Forbidden, InvalidInput, NotFound
from socialcredit.i18n import Message
from socialcredit.rights.opening import AuditLog
from socialcredit.sharing.access import require_case, require_reviewer
from socialcredit.sharing.keys import Principal
from socialcredit.timeutil import format_instant

MAX_TEXT = 4000  # grounds and notes: a letter, not a file


def required_text(field: str, value: str | None) -> str:
    """A person's words (grounds, a reviewer's note): present, not blank, of letter length."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, Message("is required: say why, in words"))
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            field,
            Message("is {length} characters long; at most {most}", length=len(text), most=MAX_TEXT),
        )
    return text


@dataclass(frozen=True)
class Event:
    """One step of a case's timeline; `done` is False for what is still ahead (a deadline)."""

    at: datetime
    what: str
    done: bool = True

    def document(self) -> dict[str, Any]:
        return {"at": format_instant(self.at), "what": self.what, "done": self.done}


class Case(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def subject_id(self) -> int: ...


C = TypeVar("C", bound=Case)


def open_case(
    engine: sa.Engine,
    log: AuditLog,
    who: Principal,
    load: Callable[[sa.Connection, int], C],
    case_id: int,
    action: str,
    purpose: str,
) -> C:
    """Authorize, find and audit one case (an appeal, a repair application): reviewers read
    any, a subject only its own. A subject asking about a case that is not its own, or that does
    not exist, gets the same refusal, so a refusal never says whether the case exists."""
    if who.role != "subject":
        require_reviewer(who, action)
    try:
        with engine.connect() as conn:
            case = load(conn, case_id)
    except NotFound:
        if who.role == "subject":
            raise Forbidden(
                Message("a subject key may read only its own cases ({action})", action=action)
            ) from None
        log(who, action, f"case {case_id}", purpose, "not_found")
        raise
    require_case(who, case.subject_id, action)
    log(who, action, f"case {case_id}", purpose, "allowed")
    return case
