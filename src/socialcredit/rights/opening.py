"""Opening one subject's data: authorize, find, audit. Every surface (API, pages, CLI) that reads
a subject's data goes through `open_subject`, so the checks and the audit trail are the same.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from socialcredit.errors import InvalidInput, NotFound
from socialcredit.sharing.access import require_subject
from socialcredit.sharing.keys import Principal
from socialcredit.store.registry import Subject, find_subject

# (principal, action, target, purpose, outcome): appends one audit entry
AuditLog = Callable[[Principal, str, str, str, str], None]


def open_subject(
    engine: sa.Engine,
    log: AuditLog,
    who: Principal,
    identifier: str,
    action: str,
    purpose: str,
) -> Subject:
    """Authorize, find and audit one subject's data for `action`. Authorization comes first, so
    a refusal says nothing about whether the subject exists (the error handlers audit
    refusals); asking about a subject that is not registered, or about something that is not
    an identifier, is logged too."""
    try:
        canonical = require_subject(who, identifier, action)
        with engine.connect() as conn:
            subject = find_subject(conn, canonical)
    except (NotFound, InvalidInput) as error:
        outcome = "not_found" if isinstance(error, NotFound) else "invalid"
        log(who, action, identifier, purpose, outcome)
        raise
    log(who, action, subject.identifier, purpose, "allowed")
    return subject
