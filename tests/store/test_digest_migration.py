"""Migration 0007 recomputes stored policy digests as JCS (RFC 8785), in `policies` and in the
evaluations that name them; its downgrade puts the json.dumps digests back."""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from socialcredit.policy.load import bundled_packs
from socialcredit.store.db import MIGRATIONS, _alembic_config
from socialcredit.store.policies import add_policy
from socialcredit.store.schema import evaluations, policies
from socialcredit.timeutil import now


def _digests(engine: sa.Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as conn:
        stored = set(conn.execute(sa.select(policies.c.digest)).scalars())
        named = set(conn.execute(sa.select(evaluations.c.policy_digest)).scalars())
    return stored, named


def test_stored_digests_migrate_both_ways(engine: sa.Engine) -> None:
    sesame = bundled_packs()["sesame"]
    parsed = sesame.policy.model_dump(mode="json", by_alias=True)
    old = hashlib.sha256(json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode())
    with engine.begin() as conn:
        stored, _ = add_policy(conn, sesame)
        at = now()
        conn.execute(
            evaluations.insert().values(
                policy_id=stored.id,
                policy_name="sesame",
                policy_version=stored.version,
                policy_digest=stored.digest,
                as_of=at,
                known_at=at,
                current=True,
                started_at=at,
                finished_at=at,
                engine="duckdb",
                counts={},
                timings={},
                distribution=[],
            )
        )
    assert _digests(engine) == ({sesame.digest}, {sesame.digest})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    ours = ScriptDirectory.from_config(config).get_revision("0007")
    assert ours is not None and isinstance(ours.down_revision, str)
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), ours.down_revision)
    assert _digests(engine) == ({old.hexdigest()}, {old.hexdigest()})
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert _digests(engine) == ({sesame.digest}, {sesame.digest})
