"""notices: what changed for a subject between two evaluations, their outbox; source retention

Revision ID: 0009
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import JSONDoc, Key, UTCTimestamp

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
    op.create_table(
        "notices",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("policy_name", sa.String(length=64), nullable=True),
        sa.Column("evaluation_id", Key, nullable=True),
        sa.Column("previous_evaluation_id", Key, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("adverse", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCTimestamp(), nullable=False),
        sa.Column("body", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_notices_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_notices_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_notices_previous_evaluation_id_evaluations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notices_evaluation_id"), ["evaluation_id"], unique=False
        )
    op.create_table(
        "notice_outbox",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("notice_id", Key, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCTimestamp(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTCTimestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_outbox_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_outbox")),
        sa.UniqueConstraint("notice_id", name=op.f("uq_notice_outbox_notice_id")),
    )
    with op.batch_alter_table("notice_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_outbox_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("notice_outbox")
    op.drop_table("notices")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("retention_days")
