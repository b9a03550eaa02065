"""Records, subjects and relationships in: the same acceptance as `scs ingest` and imports."""

from __future__ import annotations

from fastapi import APIRouter

from socialcredit.api.auth import Caller, Purpose, Svc, requires
from socialcredit.api.models import (
    ERRORS,
    BatchReport,
    RecordBatch,
    RelationshipBatch,
    SubjectBatch,
)
from socialcredit.ingest.batch import (
    import_relationships_batch,
    import_subjects_batch,
    ingest_batch,
)
from socialcredit.ingest.report import Report
from socialcredit.sharing.access import STAFF, require_role, require_source

router = APIRouter(prefix="/v1", tags=["ingest"], responses=ERRORS)


def _report(report: Report) -> BatchReport:
    return BatchReport.model_validate(
        {
            "what": report.what,
            "total": report.total,
            "accepted": report.accepted,
            "unchanged": report.unchanged,
            "rejected": [
                {"row": r.line, "field": r.field, "reason": r.reason} for r in report.rejected
            ],
        }
    )


@router.post(
    "/records",
    response_model=BatchReport,
    dependencies=[requires(("admin", "operator", "source"), "posting records")],
)
def post_records(batch: RecordBatch, svc: Svc, who: Caller, purpose: Purpose) -> BatchReport:
    """Append a batch of records from one source. Each record is accepted or rejected with
    its row number, field and reason; the accepted ones are stored in one transaction.
    Re-sending a record_id already stored is a no-op."""
    source = require_source(who, batch.source)
    rows = [r.model_dump(exclude_none=True) for r in batch.records]
    report = ingest_batch(svc.engine, source, rows)
    svc.log(who, "records.ingest", f"source {source}: {report.accepted} accepted", purpose)
    return _report(report)


@router.post(
    "/subjects",
    response_model=BatchReport,
    dependencies=[requires(STAFF, "registering subjects")],
)
def post_subjects(batch: SubjectBatch, svc: Svc, who: Caller, purpose: Purpose) -> BatchReport:
    """Register subjects (and further identifiers of known subjects, with same_as)."""
    require_role(who, STAFF, "registering subjects")
    rows = [s.model_dump(exclude_none=True) for s in batch.subjects]
    report = import_subjects_batch(svc.engine, rows)
    svc.log(who, "subjects.import", f"{report.accepted} accepted", purpose)
    return _report(report)


@router.post(
    "/relationships",
    response_model=BatchReport,
    dependencies=[requires(STAFF, "recording relationships")],
)
def post_relationships(
    batch: RelationshipBatch, svc: Svc, who: Caller, purpose: Purpose
) -> BatchReport:
    """Record relationships; re-sending an edge with another weight or a valid_to adds a
    version of it (the registry is bitemporal)."""
    require_role(who, STAFF, "recording relationships")
    rows = [r.model_dump(by_alias=True, exclude_none=True) for r in batch.relationships]
    report = import_relationships_batch(svc.engine, rows)
    svc.log(who, "relationships.import", f"{report.accepted} accepted", purpose)
    return _report(report)
