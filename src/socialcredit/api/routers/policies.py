"""Policies: public to read (a scheme's rules are not secret), staff to add. A new version is
added, never overwritten; an invalid document is refused with every problem named."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from socialcredit.api.auth import Caller, Purpose, Svc, requires
from socialcredit.api.models import ERRORS, PolicyAdded, PolicyIn, PolicyOut
from socialcredit.policy.lint import lint
from socialcredit.policy.load import load_policy
from socialcredit.sharing.access import STAFF, require_role
from socialcredit.store.policies import (
    StoredPolicy,
    add_policy,
    get_policy,
    latest_policies,
    list_policies,
)
from socialcredit.timeutil import format_instant

router = APIRouter(prefix="/v1/policies", tags=["policies"], responses=ERRORS)


def _out(p: StoredPolicy, in_force: set[int]) -> dict[str, Any]:
    return {
        "name": p.name,
        "version": p.version,
        "title": p.title,
        "digest": p.digest,
        "added_at": format_instant(p.added_at),
        "in_force": p.id in in_force,
    }


@router.get("", response_model=list[PolicyOut])
def index(svc: Svc, who: Caller) -> Any:
    """Every stored version; the latest of each name is in force. Public (a key that is sent
    must be valid)."""
    with svc.engine.connect() as conn:
        in_force = {p.id for p in latest_policies(conn)}
        return [_out(p, in_force) for p in list_policies(conn)]


@router.get("/{name}")
def show(name: str, svc: Svc, who: Caller, version: str | None = None) -> dict[str, Any]:
    """A policy version (default: the one in force): its document as written, and parsed.
    Public (a key that is sent must be valid)."""
    with svc.engine.connect() as conn:
        stored = get_policy(conn, name, version)
    return {
        "name": stored.name,
        "version": stored.version,
        "digest": stored.digest,
        "document": stored.document,
        "parsed": stored.policy.model_dump(mode="json", by_alias=True),
    }


@router.post("", response_model=PolicyAdded, dependencies=[requires(STAFF, "adding a policy")])
def add(body: PolicyIn, svc: Svc, who: Caller, purpose: Purpose) -> Any:
    """Add a policy version. `policy lint` runs first: errors refuse the document (422, every
    problem in `details`); warnings and notices come back with the stored version."""
    require_role(who, STAFF, "adding a policy")
    loaded = load_policy(body.document, source="posted document")
    with svc.engine.begin() as conn:
        stored, created = add_policy(conn, loaded)
        in_force = {p.id for p in latest_policies(conn)}
    svc.log(who, "policy.add", f"{stored.name} {stored.version}", purpose)
    findings = [{"level": f.level, "key": f.key, "message": f.message} for f in lint(loaded.policy)]
    return {"policy": _out(stored, in_force), "created": created, "findings": findings}
