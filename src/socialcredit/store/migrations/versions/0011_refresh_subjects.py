"""real time: the subjects whose decisions a refresh changed (for the gate index)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import JSONDoc

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refreshes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided", JSONDoc, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refreshes", schema=None) as batch_op:
        batch_op.drop_column("decided")
