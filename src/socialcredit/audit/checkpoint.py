"""Signed checkpoints of the audit log, inclusion proofs, and checking the log against a
checkpoint kept elsewhere.

A checkpoint commits to the first `size` entries: anyone holding one can later show that the
log still starts with exactly those entries, even against someone who can write the database
and recompute every hash, because recomputing cannot forge the signature. The service signs a
new one on a schedule and after every evaluation; publish them, or let auditors fetch
`GET /v1/audit/checkpoint` and keep their own copies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialcredit.audit.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from socialcredit.audit.note import (
    CheckpointBody,
    NoteError,
    load_key,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key,
)
from socialcredit.audit.tree import StoredTree, log_size, recompute, store_nodes, stored_nodes
from socialcredit.errors import Conflict, InvalidInput, NotFound, SocialCreditError
from socialcredit.settings import Settings
from socialcredit.store.db import writing
from socialcredit.store.schema import audit_checkpoints, audit_log
from socialcredit.timeutil import now

CHECKPOINT_LOCK = 0x5C5_C4EC  # PostgreSQL advisory lock: one checkpointer at a time
log = logging.getLogger("socialcredit.audit")


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: bytes
    made_at: datetime
    note: str  # the signed note, as served


def public_key(settings: Settings) -> str:
    """The verifier key of the log's signing key (made if missing), for outsiders to pin."""
    key = load_key(settings.audit_key_path, create=True)
    return verifier_key(settings.audit_origin, key.public_key())


def latest_checkpoint(conn: sa.Connection) -> Checkpoint | None:
    row = conn.execute(
        sa.select(audit_checkpoints).order_by(audit_checkpoints.c.tree_size.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return Checkpoint(int(row.tree_size), bytes.fromhex(row.root_hash), row.made_at, row.note)


def make_checkpoint(engine: sa.Engine, settings: Settings) -> Checkpoint:
    """Sign a checkpoint of the log as it is now, unless the latest already covers it. Refuses
    (Conflict) when the log no longer extends the latest checkpoint: a rewritten log is never
    signed."""
    key = load_key(settings.audit_key_path, create=True)
    with engine.connect() as conn:
        size = log_size(conn)
        latest = latest_checkpoint(conn)
        tree = StoredTree(conn, size)
        root = tree.root()
        if latest is not None and latest.size == size and latest.root == root:
            return latest  # nothing new to sign
        if latest is not None:
            try:
                proof = consistency_proof(latest.size, size, tree.subtree)
                verify_consistency(latest.size, size, latest.root, root, proof)
            except (ProofError, ValueError) as error:
                raise Conflict(
                    f"the audit log no longer extends its checkpoint of {latest.size} entries "
                    f"({error}); nothing was signed: run `scs audit verify`"
                ) from None
    body = CheckpointBody(settings.audit_origin, size, root)
    made = Checkpoint(size, root, now(), sign_note(body.text(), settings.audit_origin, key))
    with writing(engine, CHECKPOINT_LOCK) as conn:
        store_nodes(conn, tree.made)
        if conn.execute(
            sa.select(audit_checkpoints.c.tree_size).where(audit_checkpoints.c.tree_size == size)
        ).first():
            return made  # another process signed the same size (the same root) meanwhile
        conn.execute(
            audit_checkpoints.insert().values(
                tree_size=size, root_hash=root.hex(), made_at=made.made_at, note=made.note
            )
        )
    return made


def checkpoint_after(engine: sa.Engine, settings: Settings, why: str) -> Checkpoint | None:
    """Sign a checkpoint after `why` (an evaluation, the schedule). A refusal is logged, not
    raised: the evaluation stands, and the operator sees that the log was rewritten or the
    key file refused."""
    try:
        return make_checkpoint(engine, settings)
    except SocialCreditError as error:
        log.error("no audit checkpoint signed after %s: %s", why, error.message)
        return None


def inclusion(conn: sa.Connection, seq: int, checkpoint: Checkpoint) -> dict[str, Any]:
    """The proof that entry `seq` is in the tree of `checkpoint` (hashes in hex)."""
    if not 1 <= seq <= checkpoint.size:
        raise NotFound(
            f"entry {seq} is not in the latest checkpoint, which covers entries 1 to "
            f"{checkpoint.size}; a newer checkpoint will cover it"
        )
    tree = StoredTree(conn, checkpoint.size)
    leaf = tree.leaf(seq - 1)
    proof = inclusion_proof(seq - 1, checkpoint.size, tree.subtree)
    try:
        verify_inclusion(seq - 1, checkpoint.size, leaf, proof, checkpoint.root)
    except ProofError:
        raise Conflict(
            f"entry {seq} does not prove against the signed checkpoint of {checkpoint.size} "
            "entries: the log was changed; run `scs audit verify`"
        ) from None
    return {
        "seq": seq,
        "leaf_hash": leaf.hex(),
        "tree_size": checkpoint.size,
        "root_hash": checkpoint.root.hex(),
        "proof": [p.hex() for p in proof],
    }


def entry_about(conn: sa.Connection, seq: int, identifiers: frozenset[str]) -> bool:
    """Whether entry `seq` is about one of `identifiers`: its target is one, or ends with one
    (a gate check's target is `<measure> <identifier>`). NotFound when there is no such entry."""
    target = conn.execute(sa.select(audit_log.c.target).where(audit_log.c.seq == seq)).scalar()
    if target is None:
        raise NotFound(f"there is no audit entry {seq}")
    return target in identifiers or target.rsplit(" ", 1)[-1] in identifiers


@dataclass(frozen=True)
class CheckpointCheck:
    old_size: int  # the checkpoint's
    size: int  # the log's now
    root: bytes  # the log's root now (recomputed from every entry)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def check_against(
    conn: sa.Connection, note: str, settings: Settings, vkey: str | None = None
) -> CheckpointCheck:
    """Verify the log against an older signed checkpoint: the signature (by `vkey`, or by the
    log's own key), that the first `size` entries still hash to its root, that the cached
    tree nodes match the entries, and a consistency proof from its size to the log's now."""
    if vkey is not None:
        try:
            name, key = parse_verifier_key(vkey.strip())
        except NoteError as error:
            raise InvalidInput("key", str(error)) from None
    else:
        name = settings.audit_origin
        key = load_key(settings.audit_key_path).public_key()
    try:
        body = parse_checkpoint(open_note(note, name, key))
    except NoteError as error:
        return CheckpointCheck(0, 0, b"", f"the checkpoint does not verify: {error}")
    if body.origin != settings.audit_origin and vkey is None:
        why = f"the checkpoint is of the log {body.origin!r}, not {settings.audit_origin!r}"
        return CheckpointCheck(body.size, 0, b"", why)
    rows = conn.execution_options(yield_per=10_000).execute(
        sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq)
    )
    with rows:
        found = recompute(((int(r.seq), str(r.hash)) for r in rows), [body.size])
    now_root = found.roots[found.size]
    if found.gap_at is not None:
        why = f"entry {found.gap_at} is missing (entries after it were kept)"
        return CheckpointCheck(body.size, found.size, now_root, why)
    if found.size < body.size:
        why = (
            f"the log has {found.size:,} entries, fewer than the checkpoint's {body.size:,}: "
            "entries were removed"
        )
        return CheckpointCheck(body.size, found.size, now_root, why)
    if found.roots[body.size] != body.root:
        why = (
            f"the first {body.size:,} entries no longer hash to the checkpoint's root: an entry "
            "before it was changed, removed or reordered"
        )
        return CheckpointCheck(body.size, found.size, now_root, why)
    for (level, idx), cached in stored_nodes(conn):
        if found.nodes.get((level, idx)) != cached:
            first, last = idx << level, (idx + 1) << level
            why = f"the stored tree node of entries {first + 1}-{last} does not match them"
            return CheckpointCheck(body.size, found.size, now_root, why)
    tree = StoredTree(conn, found.size)
    try:
        proof = consistency_proof(body.size, found.size, tree.subtree)
        verify_consistency(body.size, found.size, body.root, now_root, proof)
    except ProofError as error:
        why = f"the log is not consistent with the checkpoint ({error})"
        return CheckpointCheck(body.size, found.size, now_root, why)
    return CheckpointCheck(body.size, found.size, now_root)
