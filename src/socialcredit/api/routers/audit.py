"""The audit log, for auditors: read it page by page, and verify the chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.models import ERRORS, AuditEntry, AuditVerification
from socialcredit.audit.log import read_entries, verify
from socialcredit.sharing.access import require_role

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERRORS)
READERS = ("admin", "auditor")


@router.get("", response_model=list[AuditEntry])
def entries(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    after: Annotated[int, Query(ge=0, le=2**62, description="Entries after this seq.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    target: Annotated[str | None, Query(max_length=300)] = None,
) -> Any:
    """A page of the log, oldest first."""
    require_role(who, READERS, "reading the audit log")
    with svc.engine.connect() as conn:
        found = read_entries(conn, after, limit, actor, target)
    # The log names who read whom: reading it is itself an access to log.
    svc.log(who, "audit.read", f"after {after}, {len(found)} entries", purpose)
    return found


@router.get("/verify", response_model=AuditVerification)
def check_chain(svc: Svc, who: Caller) -> Any:
    """Recompute the hash chain; names the first entry that does not verify."""
    require_role(who, READERS, "verifying the audit log")
    with svc.engine.connect() as conn:
        result = verify(conn)
    return {
        "ok": result.ok,
        "entries": result.entries,
        "head": result.head,
        "broken_at": result.broken_at,
        "reason": result.reason,
    }
