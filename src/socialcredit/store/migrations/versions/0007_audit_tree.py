"""audit tree: Merkle nodes and signed checkpoints; policy digests become JCS (RFC 8785)

Revision ID: 0007
Revises: 0002
Create Date: 2026-12-07

The policy digest was SHA-256 of Python's `json.dumps(..., sort_keys=True)` of the validated
policy; it becomes SHA-256 of the RFC 8785 canonical JSON of the same document, which an
auditor can recompute outside Python (`json.dumps` writes 100.0 where JCS writes 100). Stored
digests are recomputed from each stored document, in `policies` and in the `evaluations` that
name them; the downgrade puts the old digests back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from socialcredit.store.types import Key, UTCTimestamp

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", Key, autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_nodes")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", Key, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("made_at", UTCTimestamp(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    _redigest(_jcs_digest)


def downgrade() -> None:
    _redigest(_json_digest)
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_nodes")


def _json_digest(dumped: Any) -> str:
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _jcs_digest(dumped: Any) -> str:
    import rfc8785

    return hashlib.sha256(rfc8785.dumps(dumped)).hexdigest()


def _redigest(digest: Callable[[Any], str]) -> None:
    # The stored YAML is validated by the current loader (the digest is of the validated
    # document, defaults included); imported here so that only this step needs it.
    from socialcredit.policy.load import load_policy

    conn = op.get_bind()
    policies = sa.table(
        "policies",
        sa.column("id", Key),
        sa.column("name", sa.String),
        sa.column("version", sa.String),
        sa.column("digest", sa.String),
        sa.column("document", sa.Text),
    )
    evaluations = sa.table(
        "evaluations", sa.column("policy_id", Key), sa.column("policy_digest", sa.String)
    )
    for row in conn.execute(sa.select(policies)).all():
        loaded = load_policy(row.document, source=f"policy {row.name} {row.version}")
        new = digest(loaded.policy.model_dump(mode="json", by_alias=True))
        if new == row.digest:
            continue
        conn.execute(policies.update().where(policies.c.id == row.id).values(digest=new))
        conn.execute(
            evaluations.update()
            .where(evaluations.c.policy_id == row.id)
            .where(evaluations.c.policy_digest == row.digest)
            .values(policy_digest=new)
        )
