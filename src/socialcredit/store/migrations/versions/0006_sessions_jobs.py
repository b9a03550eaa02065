"""sessions and jobs: server-side web sessions, and jobs run off the request path

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import JSONDoc, Key, UTCTimestamp

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", Key, nullable=False),
        sa.Column("created_at", UTCTimestamp(), nullable=False),
        sa.Column("seen_at", UTCTimestamp(), nullable=False),
        sa.Column("expires_at", UTCTimestamp(), nullable=False),
        sa.Column("ended_at", UTCTimestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_web_sessions_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("request", JSONDoc, nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("heartbeat_at", UTCTimestamp(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("evaluations", JSONDoc, nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", UTCTimestamp(), nullable=False),
        sa.Column("started_at", UTCTimestamp(), nullable=True),
        sa.Column("finished_at", UTCTimestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("web_sessions")
