"""appeals of decisions, the overrides a reviewer grants, and credit repair applications

Revision ID: 0008
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import JSONDoc, Key, UTCTimestamp

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("cause_subject_id", Key, nullable=False),
        sa.Column("reasons", JSONDoc, nullable=False),
        sa.Column("since", UTCTimestamp(), nullable=False),
        sa.Column("evaluation_id", Key, nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("filed_at", UTCTimestamp(), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("due_at", UTCTimestamp(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", UTCTimestamp(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_appeals_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["cause_subject_id"],
            ["subjects.id"],
            name=op.f("fk_appeals_cause_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_appeals_evaluation_id_evaluations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    op.create_index(op.f("ix_appeals_subject_id"), "appeals", ["subject_id"])
    op.create_index(op.f("ix_appeals_status_due_at"), "appeals", ["status", "due_at"])
    op.create_table(
        "overrides",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("cause_subject_id", Key, nullable=False),
        sa.Column("reasons", JSONDoc, nullable=False),
        sa.Column("granted_at", UTCTimestamp(), nullable=False),
        sa.Column("until", UTCTimestamp(), nullable=True),
        sa.Column("appeal_id", Key, nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_overrides_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["cause_subject_id"],
            ["subjects.id"],
            name=op.f("fk_overrides_cause_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_overrides_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overrides")),
    )
    op.create_index(op.f("ix_overrides_policy_name"), "overrides", ["policy_name"])
    op.create_table(
        "repair_applications",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("listed_since", UTCTimestamp(), nullable=False),
        sa.Column("proof_record_pk", Key, nullable=False),
        sa.Column("filed_at", UTCTimestamp(), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("due_at", UTCTimestamp(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", UTCTimestamp(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("exit_record_pk", Key, nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_repair_applications_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["proof_record_pk"],
            ["records.id"],
            name=op.f("fk_repair_applications_proof_record_pk_records"),
        ),
        sa.ForeignKeyConstraint(
            ["exit_record_pk"],
            ["records.id"],
            name=op.f("fk_repair_applications_exit_record_pk_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_applications")),
    )
    op.create_index(
        op.f("ix_repair_applications_subject_id"), "repair_applications", ["subject_id"]
    )
    op.create_index(
        op.f("ix_repair_applications_status_due_at"),
        "repair_applications",
        ["status", "due_at"],
    )


def downgrade() -> None:
    op.drop_table("repair_applications")
    op.drop_table("overrides")
    op.drop_table("appeals")
