"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# The migration uses the store's column types on purpose: they are part of the schema contract
# and are never changed in place (a new type gets a new name and a migration).
from socialcredit.store.types import JSONDoc, Key, UTCTimestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("added_at", UTCTimestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_policies_name_version")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("reliability", sa.Float(), nullable=False),
        sa.Column("types", JSONDoc, nullable=True),
        sa.Column("added_at", UTCTimestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_table(
        "subjects",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("born", sa.Integer(), nullable=True),
        sa.Column("founded", sa.Integer(), nullable=True),
        sa.Column("registered_at", UTCTimestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
    )
    op.create_table(
        "evaluations",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("policy_id", Key, nullable=False),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("as_of", UTCTimestamp(), nullable=False),
        sa.Column("known_at", UTCTimestamp(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTCTimestamp(), nullable=False),
        sa.Column("finished_at", UTCTimestamp(), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("counts", JSONDoc, nullable=False),
        sa.Column("timings", JSONDoc, nullable=False),
        sa.Column("distribution", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policies.id"], name=op.f("fk_evaluations_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluations_policy_name"), ["policy_name"], unique=False
        )

    op.create_table(
        "identifiers",
        sa.Column("identifier", sa.String(length=220), nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_identifiers_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_identifiers")),
        sa.UniqueConstraint(
            "subject_id", "ordinal", name=op.f("uq_identifiers_subject_id_ordinal")
        ),
    )
    op.create_table(
        "records",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("type", sa.String(length=120), nullable=False),
        sa.Column("occurred_at", UTCTimestamp(), nullable=False),
        sa.Column("received_at", UTCTimestamp(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("attrs", JSONDoc, nullable=True),
        sa.Column("supersedes", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_records_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_records_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("source_id", "record_id", name=op.f("uq_records_source_id_record_id")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_records_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "relationships",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("from_id", Key, nullable=False),
        sa.Column("to_id", Key, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("valid_from", UTCTimestamp(), nullable=True),
        sa.Column("valid_to", UTCTimestamp(), nullable=True),
        sa.Column("recorded_at", UTCTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_id"], ["subjects.id"], name=op.f("fk_relationships_from_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["to_id"], ["subjects.id"], name=op.f("fk_relationships_to_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationships")),
    )
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relationships_from_id"), ["from_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relationships_to_id"), ["to_id"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("evaluation_id", Key, nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("authority", sa.String(length=120), nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("cause_subject_id", Key, nullable=False),
        sa.Column("since", UTCTimestamp(), nullable=False),
        sa.Column("reasons", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["cause_subject_id"],
            ["subjects.id"],
            name=op.f("fk_decisions_cause_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_decisions_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_decisions_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decisions_evaluation_id_measure"),
            ["evaluation_id", "measure"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_decisions_evaluation_id_subject_id"),
            ["evaluation_id", "subject_id"],
            unique=False,
        )

    op.create_table(
        "outcome_lists",
        sa.Column("evaluation_id", Key, nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("since", UTCTimestamp(), nullable=False),
        sa.Column("until", UTCTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_outcome_lists_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_outcome_lists_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint(
            "evaluation_id", "list_name", "subject_id", name=op.f("pk_outcome_lists")
        ),
    )
    with op.batch_alter_table("outcome_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcome_lists_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "outcome_scores",
        sa.Column("evaluation_id", Key, nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("percentile", sa.Float(), nullable=True),
        sa.Column("ceiling", sa.Integer(), nullable=True),
        sa.Column("categories", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_outcome_scores_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_outcome_scores_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "subject_id", name=op.f("pk_outcome_scores")),
    )
    with op.batch_alter_table("outcome_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcome_scores_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "record_status",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("record_pk", Key, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", UTCTimestamp(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name=op.f("fk_record_status_record_pk_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_status")),
    )
    with op.batch_alter_table("record_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_status_record_pk"), ["record_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_status_record_pk"))

    op.drop_table("record_status")
    with op.batch_alter_table("outcome_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_scores_subject_id"))

    op.drop_table("outcome_scores")
    with op.batch_alter_table("outcome_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_lists_subject_id"))

    op.drop_table("outcome_lists")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_evaluation_id_subject_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_evaluation_id_measure"))

    op.drop_table("decisions")
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relationships_to_id"))
        batch_op.drop_index(batch_op.f("ix_relationships_from_id"))

    op.drop_table("relationships")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_subject_id"))

    op.drop_table("records")
    op.drop_table("identifiers")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_policy_name"))

    op.drop_table("evaluations")
    op.drop_table("subjects")
    op.drop_table("sources")
    op.drop_table("policies")
