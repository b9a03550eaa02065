"""The audit log, for auditors: read it page by page, and verify the chain; for everyone: its
latest signed checkpoint and the verifier key to check it with."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.models import ERRORS, AuditEntry, AuditVerification
from socialcredit.audit.checkpoint import latest_checkpoint, make_checkpoint, public_key
from socialcredit.audit.log import read_entries, verify
from socialcredit.errors import Conflict, InvalidInput, StoreNotReady
from socialcredit.sharing.access import require_role

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERRORS)
READERS = ("admin", "auditor")
log = logging.getLogger("socialcredit.audit")


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


# The answer is text; the errors stay JSON like every other error. (With
# response_class=PlainTextResponse, FastAPI would document the errors as text/plain too.)
NOTE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The text"},
    **{status: ERRORS[status] for status in ERRORS},
}


@router.get("/checkpoint", response_class=Response, responses=NOTE)
def checkpoint(svc: Svc, who: Caller) -> Response:
    """The latest signed checkpoint of the log: a C2SP signed note (origin, tree size, base64
    root, then an Ed25519 signature). Keep copies: `scs audit verify --checkpoint` proves a later
    log still extends one. Public (a key that is sent must be valid); not logged, since it
    says nothing about anyone."""
    with svc.engine.connect() as conn:
        latest = latest_checkpoint(conn)
    if latest is None:  # before the first scheduled one: sign it now, once
        latest = _signing(lambda: make_checkpoint(svc.engine, svc.settings))
    return PlainTextResponse(latest.note)


@router.get("/key", response_class=Response, responses=NOTE)
def key(svc: Svc, who: Caller) -> Response:
    """The verifier key of the checkpoints (`<origin>+<key id>+<base64 key>`, the Go
    sumdb/note format): pin it once, then check every checkpoint with it. Public."""
    return PlainTextResponse(_signing(lambda: public_key(svc.settings)) + "\n")


T = TypeVar("T")


def _signing(work: Callable[[], T]) -> T:
    """A refused key file or a rewritten log is the operator's to fix: the service log says
    why, and a caller learns 503 without the server's paths."""
    try:
        return work()
    except (InvalidInput, Conflict) as error:
        log.error("audit checkpoint: %s", error.message)
        raise StoreNotReady("the audit log cannot sign a checkpoint now") from None
