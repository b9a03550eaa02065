"""Tables of the operational store (SQLAlchemy Core). Alembic migrations create them.

The record log (`records` + `record_status`) is append-only: a record is never edited, a
correction is a new record that supersedes an older one, and every status change is a new row
in `record_status`. Everything in `evaluations`, `outcome_*` and `decisions` is derived from it
by `socialcredit.engine.evaluate` and can be recomputed.
"""

from __future__ import annotations

import sqlalchemy as sa

from socialcredit.store.types import JSONDoc, Key, UTCTimestamp

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("reliability", sa.Float, nullable=False),
    sa.Column("types", JSONDoc, nullable=True),  # list of patterns; NULL = any type
    sa.Column("added_at", UTCTimestamp, nullable=False),
    # The longest a negative record of this source may be kept, in days (rights/retention.py);
    # NULL: only the policies' limits apply. Added by migration 0009.
    sa.Column("retention_days", sa.Integer, nullable=True),
)

subjects = sa.Table(
    "subjects",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("region", sa.String(6), nullable=True),
    sa.Column("born", sa.Integer, nullable=True),
    sa.Column("founded", sa.Integer, nullable=True),
    sa.Column("registered_at", UTCTimestamp, nullable=False),
)

identifiers = sa.Table(
    "identifiers",
    metadata,
    sa.Column("identifier", sa.String(220), primary_key=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("scheme", sa.String(16), nullable=False),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.UniqueConstraint("subject_id", "ordinal"),
)

relationships = sa.Table(
    "relationships",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("from_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("to_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("valid_from", UTCTimestamp, nullable=True),
    sa.Column("valid_to", UTCTimestamp, nullable=True),
    sa.Column("recorded_at", UTCTimestamp, nullable=False),
    sa.Index(None, "from_id"),
    sa.Index(None, "to_id"),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("source_id", sa.String(64), sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("record_id", sa.String(200), nullable=False),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("type", sa.String(120), nullable=False),
    sa.Column("occurred_at", UTCTimestamp, nullable=False),
    sa.Column("received_at", UTCTimestamp, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("attrs", JSONDoc, nullable=True),
    sa.Column("supersedes", sa.String(200), nullable=True),
    sa.UniqueConstraint("source_id", "record_id"),
    sa.Index(None, "subject_id"),
)

record_status = sa.Table(
    "record_status",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("record_pk", Key, sa.ForeignKey("records.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("changed_at", UTCTimestamp, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Index(None, "record_pk"),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("added_at", UTCTimestamp, nullable=False),
    sa.UniqueConstraint("name", "version"),
)

evaluations = sa.Table(
    "evaluations",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("policy_id", Key, sa.ForeignKey("policies.id"), nullable=False),
    sa.Column("policy_name", sa.String(64), nullable=False),
    sa.Column("policy_version", sa.String(64), nullable=False),
    sa.Column("policy_digest", sa.String(64), nullable=False),
    sa.Column("as_of", UTCTimestamp, nullable=False),
    sa.Column("known_at", UTCTimestamp, nullable=False),
    # True when the run used everything the store knew (known_at not given): such runs are
    # the ones checks and exports serve by default; the others are historical replays.
    sa.Column("current", sa.Boolean, nullable=False),
    sa.Column("started_at", UTCTimestamp, nullable=False),
    sa.Column("finished_at", UTCTimestamp, nullable=False),
    sa.Column("engine", sa.String(16), nullable=False),
    sa.Column("counts", JSONDoc, nullable=False),
    sa.Column("timings", JSONDoc, nullable=False),
    sa.Column("distribution", JSONDoc, nullable=False),  # [[score, count], ...]
    # Where in the log the outcome stands (`store.positions.LogPosition`: the newest id of each
    # log table it reflects). A current evaluation's rows are refreshed in place as the log
    # grows (`outcomes.refresh`, docs/realtime.md); NULL for evaluations stored before 0010.
    sa.Column("position", JSONDoc, nullable=True),
    sa.Column("refreshed_at", UTCTimestamp, nullable=True),  # the last refresh's instant
    # True when as_of was "now" (a refresh then evaluates at its own instant); False when the
    # run was given an as_of (refreshes keep it, and only known_at moves). NULL before 0011.
    sa.Column("follows_clock", sa.Boolean, nullable=True),
    sa.Index(None, "policy_name"),
)

subject_instants = sa.Table(
    "subject_instants",
    metadata,
    # The instant a subject's rows in a current evaluation describe, once a refresh rewrote them
    # (absent: the evaluation's own as_of and known_at). `scs explain` and the reports evaluate
    # the subject at these to reproduce its rows exactly (docs/realtime.md).
    sa.Column("evaluation_id", Key, sa.ForeignKey("evaluations.id"), primary_key=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), primary_key=True),
    sa.Column("as_of", UTCTimestamp, nullable=False),
    sa.Column("known_at", UTCTimestamp, nullable=False),
)

refreshes = sa.Table(
    "refreshes",
    metadata,
    # One refresh of one current evaluation: the subjects a stretch of the log touched,
    # re-evaluated at `at` and written into the evaluation's rows (docs/realtime.md).
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("evaluation_id", Key, sa.ForeignKey("evaluations.id"), nullable=False),
    sa.Column("at", UTCTimestamp, nullable=False),  # as_of and known_at of the refreshed rows
    sa.Column("records", sa.Integer, nullable=False),  # new records the stretch held
    sa.Column("subjects", sa.Integer, nullable=False),  # subjects whose rows were rewritten
    sa.Column("changes", sa.Integer, nullable=False),  # decisions applied or lifted
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("position", JSONDoc, nullable=False),  # the log position after it
    # The subjects whose decision rows it changed (sorted ids; 0011): what the gate index
    # reloads, so that it follows a refresh without reading the other answers again.
    sa.Column("decided", JSONDoc, nullable=True),
    sa.Index(None, "evaluation_id"),
    sa.Index(None, "at"),
)

outcome_scores = sa.Table(
    "outcome_scores",
    metadata,
    sa.Column("evaluation_id", Key, sa.ForeignKey("evaluations.id"), primary_key=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), primary_key=True),
    sa.Column("score", sa.Integer, nullable=True),
    sa.Column("tier", sa.String(64), nullable=True),
    sa.Column("percentile", sa.Float, nullable=True),
    sa.Column("ceiling", sa.Integer, nullable=True),
    sa.Column("categories", JSONDoc, nullable=False),
    sa.Index(None, "subject_id"),
)

outcome_lists = sa.Table(
    "outcome_lists",
    metadata,
    sa.Column("evaluation_id", Key, sa.ForeignKey("evaluations.id"), primary_key=True),
    sa.Column("list_name", sa.String(64), primary_key=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), primary_key=True),
    sa.Column("since", UTCTimestamp, nullable=False),
    sa.Column("until", UTCTimestamp, nullable=False),
    sa.Index(None, "subject_id"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("evaluation_id", Key, sa.ForeignKey("evaluations.id"), nullable=False),
    sa.Column("measure", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("authority", sa.String(120), nullable=False),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("cause_subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("since", UTCTimestamp, nullable=False),
    sa.Column("reasons", JSONDoc, nullable=False),
    sa.Index(None, "evaluation_id", "subject_id"),
    sa.Index(None, "evaluation_id", "measure"),
)

# --- the service: who may call it, and what they did ----------------------------------------

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    # The public part of the key (`scs_<prefix>_<secret>`): how lists and the audit log name it.
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),  # SHA-256 of the whole key
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=True),
    sa.Column("source_id", sa.String(64), sa.ForeignKey("sources.id"), nullable=True),
    sa.Column("measures", JSONDoc, nullable=True),  # the gate checks a relying party may run
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", UTCTimestamp, nullable=False),
    sa.Column("revoked_at", UTCTimestamp, nullable=True),
    # The key's quota, e.g. "10/second" (`scs keys create --rate`); none: no quota of its own.
    sa.Column("rate", sa.String(32), nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    # The position in the chain, assigned by the appender under the audit lock (never by the
    # database), so that a gap left by a deleted row is visible.
    sa.Column("seq", Key, primary_key=True, autoincrement=False),
    sa.Column("at", UTCTimestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("purpose", sa.String(300), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # allowed | refused
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The audit log's Merkle tree (audit/tree.py): the hash of each complete, aligned subtree of
# 2^level leaves, level >= 8 (256 leaves), so that a root or a proof reads a few nodes and at most
# 256 entries, not the whole log. A cache the checkpointer fills; `scs audit verify --checkpoint`
# recomputes it from the entries.
audit_nodes = sa.Table(
    "audit_nodes",
    metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", Key, primary_key=True, autoincrement=False),  # leaves [idx, idx+1)·2^level
    sa.Column("hash", sa.String(64), nullable=False),
)

# Signed checkpoints of the audit log (C2SP tlog-checkpoint notes), one for each tree size.
audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("tree_size", Key, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.String(64), nullable=False),
    sa.Column("made_at", UTCTimestamp, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    # A web page login. The cookie carries a signed random token; the store keeps only the
    # token's SHA-256, so a copy of the database cannot be used to browse as anyone.
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("key_id", Key, sa.ForeignKey("api_keys.id"), nullable=False),
    sa.Column("created_at", UTCTimestamp, nullable=False),
    sa.Column("seen_at", UTCTimestamp, nullable=False),  # the last page it opened (idle timeout)
    sa.Column("expires_at", UTCTimestamp, nullable=False),  # the absolute end, however active
    sa.Column("ended_at", UTCTimestamp, nullable=True),  # logged out
)
jobs = sa.Table(
    "jobs",
    metadata,
    # Long work the service runs off the request path (today: evaluations).
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),  # evaluation
    sa.Column("state", sa.String(16), nullable=False),  # queued | running | succeeded | failed
    sa.Column("request", JSONDoc, nullable=False),  # what was asked, as validated
    sa.Column("requested_by", sa.String(200), nullable=False),  # the principal's name
    sa.Column("purpose", sa.String(300), nullable=False),
    # The service process that runs it, and when it last said it is alive: a job whose worker
    # stopped (a crash, kill -9, a restart) is found by its silence and marked failed.
    sa.Column("worker", sa.String(64), nullable=False),
    sa.Column("heartbeat_at", UTCTimestamp, nullable=False),
    sa.Column("done", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("step", sa.String(200), nullable=False),
    sa.Column("evaluations", JSONDoc, nullable=False),  # ids of the evaluations it stored
    sa.Column("error", sa.String(1000), nullable=True),
    sa.Column("created_at", UTCTimestamp, nullable=False),
    sa.Column("started_at", UTCTimestamp, nullable=True),
    sa.Column("finished_at", UTCTimestamp, nullable=True),
)

# --- due process: objections to records ---------------------------------------------------

objections = sa.Table(
    "objections",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("record_pk", Key, sa.ForeignKey("records.id"), nullable=False),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    # The record's source, so that a source key lists the objections about its own records.
    sa.Column("source_id", sa.String(64), sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("grounds", sa.Text, nullable=False),
    sa.Column("evidence_name", sa.String(200), nullable=True),
    sa.Column("evidence_sha256", sa.String(64), nullable=True),
    sa.Column("evidence", sa.LargeBinary, nullable=True),
    sa.Column("filed_at", UTCTimestamp, nullable=False),
    sa.Column("filed_by", sa.String(200), nullable=False),
    # Fixed when filed: the shortest disputes.deadline among the policies in force.
    sa.Column("deadline_days", sa.Integer, nullable=False),
    sa.Column("due_at", UTCTimestamp, nullable=False),
    # Written once, when the objection is resolved (NULL while it is open): verified,
    # corrected, retracted or suppressed (nobody answered by due_at).
    sa.Column("resolution", sa.String(16), nullable=True),
    sa.Column("resolved_at", UTCTimestamp, nullable=True),
    sa.Column("resolved_by", sa.String(200), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("corrected_by", sa.String(200), nullable=True),  # the superseding record_id
    sa.Index(None, "record_pk"),
    sa.Index(None, "subject_id"),
    sa.Index(None, "source_id"),
    sa.Index(None, "resolution", "due_at"),
)

# --- notices: what changed for a subject between two current evaluations (rights/notices.py) --

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    # The policy and the evaluation that showed the change, and the one it was compared with
    # (NULL: the policy's first current evaluation). A notice about a case (an objection
    # answered, an appeal decided: `rights.notices.case_notice`) has none of the three.
    sa.Column("policy_name", sa.String(64), nullable=True),
    sa.Column("evaluation_id", Key, sa.ForeignKey("evaluations.id"), nullable=True),
    sa.Column("previous_evaluation_id", Key, sa.ForeignKey("evaluations.id"), nullable=True),
    # measure_applied | measure_lifted | list_entered | list_exited | tier_changed, or a case's
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("topic", sa.String(64), nullable=False),  # the measure, list, tier, or case
    sa.Column("adverse", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCTimestamp, nullable=False),
    sa.Column("body", JSONDoc, nullable=False),  # reasons, factors, since, how to contest
    sa.Index(None, "subject_id"),
    sa.Index(None, "evaluation_id"),
)

notice_outbox = sa.Table(
    "notice_outbox",
    metadata,
    # One delivery of one notice (the outbox pattern: written in the notice's transaction,
    # drained by `rights.delivery` with retries, never lost when a receiver is down).
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("notice_id", Key, sa.ForeignKey("notices.id"), nullable=False, unique=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCTimestamp, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", UTCTimestamp, nullable=True),
    sa.Index(None, "state", "next_attempt_at"),
)

# --- due process: appeals of decisions, overrides, credit repair ----------------------------

appeals = sa.Table(
    "appeals",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("policy_name", sa.String(64), nullable=False),
    sa.Column("measure", sa.String(64), nullable=False),
    sa.Column("cause_subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    # The appealed decision as it stood when the appeal was filed: its reason codes (an
    # override lifts exactly this cause), since, and the evaluation it came from.
    sa.Column("reasons", JSONDoc, nullable=False),
    sa.Column("since", UTCTimestamp, nullable=False),
    sa.Column("evaluation_id", Key, sa.ForeignKey("evaluations.id"), nullable=False),
    sa.Column("grounds", sa.Text, nullable=False),
    sa.Column("filed_at", UTCTimestamp, nullable=False),
    sa.Column("filed_by", sa.String(200), nullable=False),
    sa.Column("due_at", UTCTimestamp, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | upheld | overridden
    sa.Column("decided_at", UTCTimestamp, nullable=True),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Index(None, "subject_id"),
    sa.Index(None, "status", "due_at"),
)

overrides = sa.Table(
    "overrides",
    metadata,
    # A reviewer's decision that a measure does not apply to a subject: data that `evaluate`
    # and the gate read (engine.overrides), never a filter on an answer. Never edited.
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("policy_name", sa.String(64), nullable=False),
    sa.Column("measure", sa.String(64), nullable=False),
    sa.Column("cause_subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("reasons", JSONDoc, nullable=False),
    sa.Column("granted_at", UTCTimestamp, nullable=False),
    sa.Column("until", UTCTimestamp, nullable=True),  # NULL: until its cause changes
    sa.Column("appeal_id", Key, sa.ForeignKey("appeals.id"), nullable=False),
    sa.Index(None, "policy_name"),
)

repair_applications = sa.Table(
    "repair_applications",
    metadata,
    sa.Column("id", Key, primary_key=True, autoincrement=True),
    sa.Column("subject_id", Key, sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("policy_name", sa.String(64), nullable=False),
    sa.Column("list_name", sa.String(64), nullable=False),
    sa.Column("listed_since", UTCTimestamp, nullable=False),
    sa.Column("proof_record_pk", Key, sa.ForeignKey("records.id"), nullable=False),
    sa.Column("filed_at", UTCTimestamp, nullable=False),
    sa.Column("filed_by", sa.String(200), nullable=False),
    sa.Column("due_at", UTCTimestamp, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | approved | refused
    sa.Column("decided_at", UTCTimestamp, nullable=True),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("exit_record_pk", Key, sa.ForeignKey("records.id"), nullable=True),
    sa.Index(None, "subject_id"),
    sa.Index(None, "status", "due_at"),
)
