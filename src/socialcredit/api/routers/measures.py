"""The gate check (served by `api.gate.FastGate`; this route documents it and answers the same)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.gate import gate_check
from socialcredit.api.models import ERRORS, CheckAnswer

router = APIRouter(prefix="/v1/measures", tags=["gate checks"], responses=ERRORS)


@router.get("/{name}/check", response_model=CheckAnswer)
async def check(
    name: Annotated[str, Path(description="The measure, e.g. flight_ban.")],
    subject: Annotated[str, Query(min_length=1, max_length=220, description="scheme:value")],
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    policy: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="The policy that declares the measure (needed if several do).",
        ),
    ] = None,
) -> Any:
    """Does the measure apply to the subject? Only what a gate needs: applies, the reason
    codes, since, and the cause subject when the measure is collateral. Staff may check any
    measure; a relying party only those it was granted."""
    return await gate_check(svc, who, name, subject, purpose, policy)
