"""Signed checkpoints and proofs of the audit log: a checkpoint kept elsewhere catches an entry
before it that was changed, removed or reordered, even when every hash after it was
recomputed; `scs audit checkpoint | prove | verify --checkpoint | key`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from socialcredit.audit.checkpoint import (
    check_against,
    inclusion,
    latest_checkpoint,
    make_checkpoint,
    public_key,
)
from socialcredit.audit.log import Entry, append_entries, verify
from socialcredit.audit.merkle import (
    consistency_proof,
    in_memory,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_inclusion,
)
from socialcredit.audit.note import open_note, parse_checkpoint, parse_verifier_key
from socialcredit.audit.tree import StoredTree
from socialcredit.cli import app
from socialcredit.errors import Conflict
from socialcredit.settings import Settings
from socialcredit.store.schema import audit_checkpoints, audit_log, audit_nodes
from socialcredit.timeutil import to_us


def entry(n: int) -> Entry:
    return Entry.now("key:test", "operator", "subject.read", f"ext:subject-{n}", "a test")


def fill(engine: sa.Engine, first: int, last: int) -> None:
    append_entries(engine, [entry(n) for n in range(first, last + 1)])


def scs(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"SCS_HOME": str(settings.home), "COLUMNS": "200"}
    if settings.database_url:
        env["SCS_DATABASE_URL"] = settings.database_url
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def stored_entries(engine: sa.Engine) -> list[Entry]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
    return [
        Entry(to_us(r.at), r.actor, r.role, r.action, r.target, r.purpose, r.outcome) for r in rows
    ]


def rewrite(engine: sa.Engine, change: Callable[[list[Entry]], list[Entry]]) -> None:
    """What an attacker with write access does: change the entries, then recompute every
    hash of the chain, and drop the cached tree so that nothing stale gives it away."""
    entries = change(stored_entries(engine))
    with engine.begin() as conn:
        conn.execute(audit_log.delete())
        conn.execute(audit_nodes.delete())
    append_entries(engine, entries)
    with engine.connect() as conn:
        assert verify(conn).ok  # the chain alone no longer shows anything


def test_a_checkpoint_signs_the_rfc6962_root_of_the_entries(
    settings: Settings, engine: sa.Engine
) -> None:
    fill(engine, 1, 300)  # more than one cached block of 256
    made = make_checkpoint(engine, settings)
    with engine.connect() as conn:
        hashes = conn.execute(sa.select(audit_log.c.hash).order_by(audit_log.c.seq)).scalars()
        expected = root_of([leaf_hash(bytes.fromhex(h)) for h in hashes])
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_nodes)).scalar() == 1
    assert (made.size, made.root) == (300, expected)
    name, key = parse_verifier_key(public_key(settings))
    body = parse_checkpoint(open_note(made.note, name, key))
    assert (body.origin, body.size, body.root) == (settings.audit_origin, 300, expected)
    assert make_checkpoint(engine, settings) == made  # nothing new: the same checkpoint
    fill(engine, 301, 520)
    later = make_checkpoint(engine, settings)
    assert later.size == 520
    with engine.connect() as conn:
        assert latest_checkpoint(conn) == later
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_checkpoints)).scalar() == 2


def test_every_entry_proves_against_the_checkpoint(settings: Settings, engine: sa.Engine) -> None:
    fill(engine, 1, 520)
    made = make_checkpoint(engine, settings)
    with engine.connect() as conn:
        for seq in (1, 2, 255, 256, 257, 300, 512, 513, 520):
            proof = inclusion(conn, seq, made)
            assert set(proof) == {"seq", "leaf_hash", "tree_size", "root_hash", "proof"}
            verify_inclusion(
                seq - 1,
                proof["tree_size"],
                bytes.fromhex(proof["leaf_hash"]),
                [bytes.fromhex(p) for p in proof["proof"]],
                made.root,
            )
        with pytest.raises(LookupError, match="not in the latest checkpoint"):
            inclusion(conn, 521, made)


def _change(entries: list[Entry]) -> list[Entry]:
    entries[4] = entries[4]._replace(target="ext:someone-else")
    return entries


def _remove(entries: list[Entry]) -> list[Entry]:
    return entries[:4] + entries[5:]


def _reorder(entries: list[Entry]) -> list[Entry]:
    entries[3], entries[4] = entries[4], entries[3]
    return entries


def _truncate(entries: list[Entry]) -> list[Entry]:
    return entries[:250]


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        (_change, "changed, removed or reordered"),
        (_remove, "changed, removed or reordered"),
        (_reorder, "changed, removed or reordered"),
        (_truncate, "fewer than the checkpoint's"),
    ],
)
def test_verify_against_a_kept_checkpoint_catches_a_rewritten_log(
    settings: Settings,
    engine: sa.Engine,
    tmp_path: Path,
    attack: Callable[[list[Entry]], list[Entry]],
    reason: str,
) -> None:
    fill(engine, 1, 300)
    kept = tmp_path / "checkpoint.txt"
    code, output = scs(settings, "audit", "checkpoint", "--out", str(kept))
    assert code == 0, output
    fill(engine, 301, 700)  # past two cached blocks: 512 merges them
    make_checkpoint(engine, settings)
    code, output = scs(settings, "audit", "verify", "--checkpoint", str(kept))
    assert code == 0, output
    assert "consistent with the checkpoint of 300 entries; the tree now has 700" in output
    rewrite(engine, attack)
    assert scs(settings, "audit", "verify")[0] == 0  # the recomputed chain holds
    code, output = scs(settings, "audit", "verify", "--checkpoint", str(kept))
    assert code == 6, output
    assert reason in output.replace("\n", " ")
    # The service refuses to sign the rewritten log over its own stored checkpoint.
    with pytest.raises(Conflict, match="no longer extends"):
        make_checkpoint(engine, settings)


def test_a_checkpoint_with_a_bad_signature_or_another_key_is_refused(
    settings: Settings, engine: sa.Engine, tmp_path: Path
) -> None:
    fill(engine, 1, 10)
    note = make_checkpoint(engine, settings).note
    forged = tmp_path / "forged.txt"
    forged.write_text(note.replace("\n10\n", "\n9\n", 1), encoding="utf-8")
    code, output = scs(settings, "audit", "verify", "--checkpoint", str(forged))
    assert (code, "does not verify" in output) == (6, True), output
    kept = tmp_path / "kept.txt"
    kept.write_text(note, encoding="utf-8")
    other = "other.example/log+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    code, output = scs(settings, "audit", "verify", "--checkpoint", str(kept), "--key", other)
    assert code == 2, output  # the key's hash does not match its name: malformed
    code, output = scs(
        settings, "audit", "verify", "--checkpoint", str(kept), "--key", public_key(settings)
    )
    assert code == 0, output
    with engine.connect() as conn:
        assert check_against(conn, note, settings).ok


def test_prove_prints_the_proof_and_signs_a_checkpoint_when_needed(
    settings: Settings, engine: sa.Engine
) -> None:
    fill(engine, 1, 5)
    code, output = scs(settings, "audit", "prove", "3")
    assert code == 0, output
    proof = json.loads(output)
    assert (proof["seq"], proof["tree_size"]) == (3, 5)
    with engine.connect() as conn:
        latest = latest_checkpoint(conn)
    assert latest is not None and proof["root_hash"] == latest.root.hex()
    assert scs(settings, "audit", "prove", "6")[0] == 3  # no entry 6 anywhere
    code, output = scs(settings, "audit", "checkpoint")
    assert code == 0 and output == latest.note
    code, output = scs(settings, "audit", "key")
    assert code == 0 and output.strip() == public_key(settings)
    key_text = settings.audit_key_path.read_text()
    assert (
        "PRIVATE KEY" in key_text and key_text.splitlines()[1] not in orjson.dumps(proof).decode()
    )


def test_a_tampered_tree_node_is_caught_and_serves_no_proof(
    settings: Settings, engine: sa.Engine, tmp_path: Path
) -> None:
    fill(engine, 1, 600)
    made = make_checkpoint(engine, settings)
    kept = tmp_path / "kept.txt"
    kept.write_text(made.note, encoding="utf-8")
    with engine.begin() as conn:
        nodes = conn.execute(sa.select(audit_nodes.c.level, audit_nodes.c.idx)).all()
        assert sorted((r.level, r.idx) for r in nodes) == [(8, 0), (8, 1), (9, 0)]
        conn.execute(
            audit_nodes.update()
            .where(audit_nodes.c.level == 8, audit_nodes.c.idx == 1)
            .values(hash="00" * 32)
        )
    code, output = scs(settings, "audit", "verify", "--checkpoint", str(kept))
    assert code == 6, output
    assert "node of entries 257-512 does not match" in output
    with engine.connect() as conn, pytest.raises(Conflict, match="does not prove"):
        inclusion(conn, 10, made)  # its proof would use the tampered node


def test_the_stored_tree_gives_the_same_proofs_as_the_tree_in_memory(
    settings: Settings, engine: sa.Engine
) -> None:
    """Across block and level boundaries, with some nodes cached and some not."""
    fill(engine, 1, 700)
    make_checkpoint(engine, settings)  # caches the nodes of the first 700 entries
    fill(engine, 701, 1100)
    with engine.connect() as conn:
        hashes = conn.execute(sa.select(audit_log.c.hash).order_by(audit_log.c.seq)).scalars()
        leaves = [leaf_hash(bytes.fromhex(h)) for h in hashes]
        stored = StoredTree(conn, len(leaves))
        memory = in_memory(leaves)
        assert stored.root() == root_of(leaves)
        for old, new in [
            (1, 1100),
            (255, 1100),
            (256, 1100),
            (300, 1024),
            (513, 1099),
            (700, 1100),
        ]:
            assert consistency_proof(old, new, stored.subtree) == consistency_proof(
                old, new, memory
            )
        for index in (0, 255, 256, 511, 512, 699, 700, 1023, 1024, 1099):
            assert inclusion_proof(index, 1100, stored.subtree) == inclusion_proof(
                index, 1100, memory
            )


def test_scs_evaluate_signs_a_checkpoint_after_the_evaluation(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    pack = Path(__file__).parents[2] / "src" / "socialcredit" / "policy" / "packs" / "sesame.yaml"
    assert scs(sqlite_settings, "policy", "add", str(pack))[0] == 0
    code, output = scs(sqlite_settings, "evaluate", "--as-of", "2026-01-01")
    assert code == 0, output
    engine = sa.create_engine(sqlite_settings.url)
    try:
        with engine.connect() as conn:
            latest = latest_checkpoint(conn)
            actions = conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.seq))
            assert list(actions.scalars())[-1] == "evaluation.run"
            assert (
                latest is not None
                and latest.size == conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar()
            )
    finally:
        engine.dispose()
