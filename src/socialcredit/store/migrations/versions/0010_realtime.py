"""real time: an evaluation's log position and its refreshes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import JSONDoc, Key, UTCTimestamp

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", JSONDoc, nullable=True))
        batch_op.add_column(sa.Column("refreshed_at", UTCTimestamp(), nullable=True))
    op.create_table(
        "refreshes",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("evaluation_id", Key, nullable=False),
        sa.Column("at", UTCTimestamp(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("position", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_refreshes_evaluation_id_evaluations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refreshes")),
    )
    with op.batch_alter_table("refreshes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refreshes_evaluation_id"), ["evaluation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refreshes_at"), ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("refreshes")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("refreshed_at")
        batch_op.drop_column("position")
