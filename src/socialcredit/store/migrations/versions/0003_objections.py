"""objections: a subject's objections to records, with their deadlines and resolutions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import Key, UTCTimestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("record_pk", Key, nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("evidence_name", sa.String(length=200), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
        sa.Column("filed_at", UTCTimestamp(), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCTimestamp(), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolved_at", UTCTimestamp(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("corrected_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name=op.f("fk_objections_record_pk_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_objections_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_objections_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    op.create_index(op.f("ix_objections_record_pk"), "objections", ["record_pk"])
    op.create_index(op.f("ix_objections_subject_id"), "objections", ["subject_id"])
    op.create_index(op.f("ix_objections_source_id"), "objections", ["source_id"])
    op.create_index(op.f("ix_objections_resolution_due_at"), "objections", ["resolution", "due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_objections_resolution_due_at"), table_name="objections")
    op.drop_index(op.f("ix_objections_source_id"), table_name="objections")
    op.drop_index(op.f("ix_objections_subject_id"), table_name="objections")
    op.drop_index(op.f("ix_objections_record_pk"), table_name="objections")
    op.drop_table("objections")
