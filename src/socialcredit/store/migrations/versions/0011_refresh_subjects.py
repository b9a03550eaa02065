"""real time: the subjects whose decisions a refresh changed (for the gate index), the instant
each refreshed subject's rows describe, and whether an evaluation's as_of follows the clock

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import JSONDoc, Key, UTCTimestamp

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refreshes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided", JSONDoc, nullable=True))
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follows_clock", sa.Boolean(), nullable=True))
    op.create_table(
        "subject_instants",
        sa.Column("evaluation_id", Key, nullable=False),
        sa.Column("subject_id", Key, nullable=False),
        sa.Column("as_of", UTCTimestamp(), nullable=False),
        sa.Column("known_at", UTCTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_subject_instants_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_instants_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "subject_id", name=op.f("pk_subject_instants")),
    )


def downgrade() -> None:
    op.drop_table("subject_instants")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("follows_clock")
    with op.batch_alter_table("refreshes", schema=None) as batch_op:
        batch_op.drop_column("decided")
