"""Request and response bodies. Requests forbid unknown fields: a caller cannot set what only
the system sets (a record's status, a score, a key's role); such a request is refused whole.

Requests are strict: a field takes only its own JSON type (a number may be written without a
fraction), so `true` is not a number here either, as it is not in a JSON Lines file. The values
then pass the same field checks as every import (`ingest.fields`).
"""

from __future__ import annotations

import builtins
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialcredit.policy.load import MAX_DOCUMENT_BYTES


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "The body cannot be decoded (not UTF-8); JSON that does not parse is a 422",
        401: "The key is missing, unknown or revoked",
        403: "The caller's role or grants do not allow this",
        404: "Not found",
        409: "Conflicts with what is stored",
        413: "The body is larger than the service reads (SCS_MAX_BODY_BYTES)",
        422: "Invalid input; `details` names each field and reason",
        429: "Too many requests (see docs/security.md); `Retry-After` says when to try again",
        503: "The store is not ready or the audit log cannot be written",
    }.items()
}
ERRORS[429]["headers"] = {
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
}

Text = Annotated[str, Field(min_length=1, max_length=200)]


class RecordIn(Closed):
    record_id: Text
    subject: Annotated[str, Field(min_length=1, max_length=220, examples=["ext:alice"])]
    type: Annotated[str, Field(min_length=1, max_length=120, examples=["finance.payment.late"])]
    occurred_at: Annotated[str, Field(min_length=1, max_length=40, examples=["2026-03-01"])]
    value: float | None = None
    attrs: dict[str, Any] | None = None
    supersedes: Text | None = None


class RecordBatch(Closed):
    source: Annotated[str | None, Field(max_length=64)] = Field(
        default=None, description="The sending source; a source key may omit it (its own)."
    )
    records: Annotated[list[RecordIn], Field(min_length=1, max_length=10_000)]


class SubjectIn(Closed):
    identifier: Annotated[str, Field(min_length=1, max_length=220)]
    kind: Annotated[str, Field(min_length=1, max_length=16, examples=["person"])]
    name: Annotated[str, Field(min_length=1, max_length=300)]
    region: Annotated[str | None, Field(max_length=6)] = None
    born: int | None = None
    founded: int | None = None
    same_as: Annotated[str | None, Field(max_length=220)] = None


class SubjectBatch(Closed):
    subjects: Annotated[list[SubjectIn], Field(min_length=1, max_length=10_000)]


class RelationshipIn(Closed):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    from_: Annotated[str, Field(alias="from", min_length=1, max_length=220)]
    to: Annotated[str, Field(min_length=1, max_length=220)]
    kind: Annotated[str, Field(min_length=1, max_length=32, examples=["guardian"])]
    weight: float | None = None
    valid_from: Annotated[str | None, Field(max_length=40)] = None
    valid_to: Annotated[str | None, Field(max_length=40)] = None


class RelationshipBatch(Closed):
    relationships: Annotated[list[RelationshipIn], Field(min_length=1, max_length=10_000)]


class Rejected(BaseModel):
    row: int
    field: str
    reason: str


class BatchReport(BaseModel):
    what: str
    total: int
    accepted: int
    unchanged: int
    rejected: list[Rejected]


class CheckAnswer(BaseModel):
    measure: str
    subject: str
    applies: bool
    reasons: list[str]
    since: str | None
    cause_subject: str | None
    policy: str
    as_of: str


class PolicyIn(Closed):
    document: Annotated[str, Field(min_length=1, max_length=MAX_DOCUMENT_BYTES)] = Field(
        description="The policy document, YAML (docs/policy.md); at most 256 KiB."
    )


class Finding(BaseModel):
    level: str
    key: str
    message: str


class PolicyOut(BaseModel):
    name: str
    version: str
    title: str
    digest: str
    added_at: str
    in_force: bool


class PolicyAdded(BaseModel):
    policy: PolicyOut
    created: bool
    findings: list[Finding]


class EvaluationIn(Closed):
    policies: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = None
    as_of: Annotated[str | None, Field(max_length=40)] = None


class EvaluationOut(BaseModel):
    id: int
    policy: str
    policy_version: str
    as_of: str
    known_at: str
    current: bool
    engine: str
    counts: dict[str, int]
    seconds: float


class JobProgress(BaseModel):
    done: int = Field(description="Policies evaluated so far.")
    total: int = Field(description="Policies the job evaluates.")
    step: str = Field(description="What the job is doing now.")


class JobEvaluation(BaseModel):
    id: int
    policy: str
    href: str = Field(description="The stored evaluation: GET it for its counts and timings.")


class JobOut(BaseModel):
    id: int
    href: str = Field(description="This job: GET it until `state` is succeeded or failed.")
    kind: str
    state: str = Field(description="queued, running, succeeded or failed.")
    progress: JobProgress
    request: dict[str, Any]
    requested_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None = Field(description="Why it failed (null unless failed).")
    evaluations: list[JobEvaluation]


class ListCause(BaseModel):
    """A record that put the subject on the list: its source, its kind and its day."""

    source: str
    source_name: str
    type: str
    type_text: str = Field(description="The record's type in words, in the answer's language.")
    occurred_at: str
    day: str = Field(description="The record's day, written in the answer's language.")


class ListEntry(BaseModel):
    name: str
    kind: str
    region: str | None
    region_name: str = Field(description="The region's name (GB/T 2260), in the answer's language.")
    identifier: str
    since: str
    until: str
    why: str = Field(description="Why the subject is on the list, as a sentence.")
    causes: builtins.list[ListCause]


class ListPage(BaseModel):
    list: str
    label: str = Field(description="The list's name, in the answer's language.")
    policy: str
    policy_version: str
    as_of: str
    page: int
    size: int
    total: int
    entries: builtins.list[ListEntry]


class PublicList(BaseModel):
    list: str
    kind: str
    policy: str
    title: str
    label: str = Field(description="The list's name, in the answer's language.")
    description: str | None
    entries: int | None


class SubjectOut(BaseModel):
    identifier: str
    identifiers: list[str]
    kind: str
    name: str
    region: str | None
    born: int | None
    founded: int | None


class AuditEntry(BaseModel):
    seq: int
    at: str
    actor: str
    role: str
    action: str
    target: str
    purpose: str
    outcome: str
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    ok: bool
    entries: int
    head: str
    broken_at: int | None
    reason: str | None


class AuditProof(BaseModel):
    """An RFC 6962 inclusion proof of one audit entry in a signed checkpoint (hashes in hex)."""

    seq: int
    leaf_hash: str
    tree_size: int
    root_hash: str
    proof: list[str]


# --- objections -------------------------------------------------------------------------------

# Evidence travels base64-encoded: up to twice the 5 MiB limit is accepted as input, so that a
# file over the limit gets the 413 that names it rather than a length error.
EVIDENCE_BASE64_MAX = 2 * 5 * 1024 * 1024 * 4 // 3 + 4


class EvidenceIn(Closed):
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["receipt.pdf"])]
    content_base64: Annotated[str, Field(min_length=1, max_length=EVIDENCE_BASE64_MAX)]


class MyObjectionIn(Closed):
    record: Annotated[
        str,
        Field(
            min_length=3,
            max_length=265,
            examples=["bank/b-1"],
            description="The record objected to: SOURCE/RECORD_ID.",
        ),
    ]
    grounds: Annotated[str, Field(min_length=1, max_length=4000)]
    evidence: EvidenceIn | None = None


class ObjectionIn(MyObjectionIn):
    subject: Annotated[str | None, Field(max_length=220)] = Field(
        default=None,
        description="The subject it is filed for (staff name it; a subject key may omit it).",
    )


class AnswerIn(Closed):
    answer: Literal["verified", "corrected", "retracted"]
    corrected_by: Annotated[str | None, Field(max_length=265)] = Field(
        default=None, description="With `corrected`: SOURCE/RECORD_ID of the superseding record."
    )
    note: Annotated[str | None, Field(max_length=2000)] = None


class StreamOut(BaseModel):
    """The record stream's worker (NATS JetStream consumer `scs-worker`)."""

    messages: int = Field(description="Records the stream SCS_RECORDS holds.")
    pending: int = Field(description="Records not yet delivered to the worker.")
    ack_pending: int = Field(description="Delivered, not yet acknowledged.")
    redelivered: int = Field(description="Delivered more than once, not yet acknowledged.")
    lag: int = Field(description="pending + ack_pending: records the worker has not finished.")
    rejects: int = Field(description="Records in the dead-letter stream SCS_REJECTS.")
    last_delivered: str | None = Field(description="When the worker last fetched a record.")
    worker: bool = Field(description="The worker's durable consumer exists.")


class RefreshOut(BaseModel):
    id: int
    evaluation: int
    at: str
    records: int
    subjects: int
    changes: int
    seconds: float


class PolicyFreshnessOut(BaseModel):
    policy: str
    evaluation: int
    scored: int
    refreshes: int = Field(description="Refreshes since the full run that stored the evaluation.")
    records: int = Field(description="New records those refreshes brought in.")
    subjects: int = Field(description="Rows they rewrote, summed (a subject may count twice).")
    percentile_lag: float | None = Field(
        description="At most this much (0 to 1) may an untouched subject's percentile differ "
        "from a full run's now; null for a policy without scores."
    )


class DecisionChangeOut(BaseModel):
    notice: int
    change: str = Field(description="applied or lifted.")
    measure: str
    label: str = Field(description="The measure in words, in the negotiated language.")
    measure_kind: str
    policy: str
    subject: str
    name: str
    collateral: bool
    at: str


class LiveOut(BaseModel):
    at: str
    stream: StreamOut | None = Field(
        description="null: no stream to show (no broker configured or reachable, or the "
        "stream not set up); records then arrive through POST /v1/records."
    )
    window: int = Field(description="Seconds over which records_per_second is counted.")
    records_per_second: float
    latest_refresh: RefreshOut | None
    policies: list[PolicyFreshnessOut]
    decisions: list[DecisionChangeOut] | None = Field(
        description="The latest measures applied or lifted, newest first; null unless the "
        "caller is staff (personal data)."
    )
