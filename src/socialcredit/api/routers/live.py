"""`GET /v1/live`: the dashboard's live section for programs (the same `outcomes.live.live_view`
the page and its event stream show)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.auth import Caller, Purpose, Svc
from socialcredit.api.models import ERRORS, LiveOut
from socialcredit.outcomes.live import LATEST, LiveView, live_view
from socialcredit.timeutil import format_instant, now

router = APIRouter(prefix="/v1/live", tags=["live"], responses=ERRORS)


def live_document(view: LiveView) -> dict[str, Any]:
    """The view as JSON (texts a person reads in the language in use)."""
    stream = None
    if view.stream is not None:
        stream = {
            **asdict(view.stream),
            "lag": view.stream.lag,
            "last_delivered": format_instant(view.stream.last_delivered),
        }
    refresh = view.latest_refresh
    return {
        "at": format_instant(view.at),
        "stream": stream,
        "window": view.window,
        "records_per_second": round(view.records_per_second, 3),
        "latest_refresh": None
        if refresh is None
        else {
            "id": refresh.id,
            "evaluation": refresh.evaluation_id,
            "at": format_instant(refresh.at),
            "records": refresh.records,
            "subjects": refresh.subjects,
            "changes": refresh.changes,
            "seconds": refresh.seconds,
        },
        "policies": [asdict(p) for p in view.policies],
        "decisions": None
        if view.decisions is None
        else [
            {
                "notice": d.notice,
                "change": "applied" if d.applied else "lifted",
                "measure": d.measure,
                "label": d.measure_text,
                "measure_kind": d.measure_kind,
                "policy": d.policy,
                "subject": d.subject,
                "name": d.name,
                "collateral": d.collateral,
                "at": format_instant(d.at),
            }
            for d in view.decisions
        ],
    }


@router.get("", response_model=LiveOut)
def live(
    svc: Svc,
    who: Caller,
    purpose: Purpose,
    limit: Annotated[int, Query(ge=1, le=100, description="Decisions to list.")] = LATEST,
) -> Any:
    """How current the outcomes are now: the stream's lag, records per second over the last
    seconds, the refreshes since each policy's full run with the bound on how far untouched
    percentiles may lag, and (staff) the latest measures applied or lifted."""
    stream = svc.stream.get()
    with svc.engine.connect() as conn:
        view = live_view(conn, who, now(), stream, limit=limit)
    if view.decisions is not None:
        svc.log(who, "live.read", f"latest decisions ({len(view.decisions)})", purpose)
    return live_document(view)
