"""The audit log as an RFC 6962 Merkle tree, read from the store.

Leaf i (0-based) is entry seq i+1; its data is the entry's 32-byte chain hash (`audit_log.hash`,
SHA-256 of the entry's fields and the hash before it, see `log.entry_hash`), so its leaf hash is
SHA-256(0x00 || those 32 bytes). The appenders are unchanged: the tree is computed from what
they write.

`audit_nodes` caches the hash of every complete aligned block of `BLOCK` leaves up to the
latest checkpoint, so a root or a proof reads at most one block of entries and the cached
hashes, not the whole log. The cache is never trusted to verify: `recompute` hashes every entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from socialcredit.audit.merkle import (
    EMPTY_ROOT,
    Accumulator,
    in_memory,
    leaf_hash,
    node_hash,
    split,
)
from socialcredit.errors import Conflict
from socialcredit.store.schema import audit_log, audit_nodes

BLOCK = 256  # leaves per cached node: a power of two


def log_size(conn: sa.Connection) -> int:
    """The number of entries, that is the last seq (a gap is found when the leaves are read)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(audit_log.c.seq), 0))).one()[0])


def entry_leaf(chain_hash: str) -> bytes:
    return leaf_hash(bytes.fromhex(chain_hash))


@dataclass
class StoredTree:
    """The tree of the first `size` entries, with the cached block hashes in `blocks`."""

    conn: sa.Connection
    size: int
    blocks: dict[int, bytes] = field(default_factory=dict)
    made: dict[int, bytes] = field(default_factory=dict)  # block hashes computed, not cached
    _leaves: dict[int, list[bytes]] = field(default_factory=dict)

    @classmethod
    def open(cls, conn: sa.Connection, size: int) -> StoredTree:
        complete = size // BLOCK
        rows = conn.execute(
            sa.select(audit_nodes.c.idx, audit_nodes.c.hash).where(audit_nodes.c.idx < complete)
        )
        return cls(conn, size, {int(r.idx): bytes.fromhex(r.hash) for r in rows})

    def root(self) -> bytes:
        return self.subtree(0, self.size) if self.size else EMPTY_ROOT

    def leaf(self, index: int) -> bytes:
        return self._block_leaves(index // BLOCK)[index % BLOCK]

    def subtree(self, lo: int, hi: int) -> bytes:
        """The hash of the leaves [lo, hi), as RFC 6962 splits them."""
        n = hi - lo
        if lo % BLOCK == 0 and n == BLOCK:
            return self._block(lo // BLOCK)
        if lo // BLOCK == (hi - 1) // BLOCK:  # inside one block: hash its leaves
            first = lo - lo % BLOCK
            leaves = self._block_leaves(lo // BLOCK)
            return in_memory(leaves[lo - first : hi - first])(0, n)
        k = split(n)
        return node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))

    def _block(self, idx: int) -> bytes:
        found = self.blocks.get(idx)
        if found is None:
            found = in_memory(self._block_leaves(idx))(0, BLOCK)
            self.blocks[idx] = self.made[idx] = found
        return found

    def _block_leaves(self, idx: int) -> list[bytes]:
        found = self._leaves.get(idx)
        if found is None:
            lo, hi = idx * BLOCK, min((idx + 1) * BLOCK, self.size)
            rows = self.conn.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash)
                .where(audit_log.c.seq > lo, audit_log.c.seq <= hi)
                .order_by(audit_log.c.seq)
            ).all()
            if [r.seq for r in rows] != list(range(lo + 1, hi + 1)):
                raise Conflict(
                    f"the audit log is missing entries between {lo + 1} and {hi}; "
                    "run `scs audit verify`"
                )
            found = self._leaves[idx] = [entry_leaf(r.hash) for r in rows]
        return found


@dataclass
class Recomputed:
    """Every entry hashed anew: the root at each size asked for, and each block's hash."""

    size: int
    roots: dict[int, bytes]
    blocks: dict[int, bytes]
    gap_at: int | None = None  # the first seq missing, when there is a gap


def recompute(rows: Iterable[tuple[int, str]], sizes: Iterable[int]) -> Recomputed:
    """Hash (seq, chain hash) rows, oldest first, into the tree, keeping the roots at `sizes`
    (the root of the whole tree is kept too, under its size)."""
    wanted = set(sizes)
    tree = Accumulator(watch=BLOCK)
    roots: dict[int, bytes] = {}
    blocks: dict[int, bytes] = {}
    if 0 in wanted:
        roots[0] = EMPTY_ROOT
    for seq, chain_hash in rows:
        if seq != tree.size + 1:
            return Recomputed(tree.size, roots, blocks, gap_at=tree.size + 1)
        tree.add(entry_leaf(chain_hash))
        if tree.size % BLOCK == 0:
            assert tree.formed is not None
            blocks[tree.size // BLOCK - 1] = tree.formed
        if tree.size in wanted:
            roots[tree.size] = tree.root()
    roots[tree.size] = tree.root()
    return Recomputed(tree.size, roots, blocks)


def store_blocks(conn: sa.Connection, blocks: dict[int, bytes]) -> None:
    """Cache block hashes not cached yet (in the caller's write transaction)."""
    if not blocks:
        return
    query = sa.select(audit_nodes.c.idx).where(
        audit_nodes.c.idx >= min(blocks), audit_nodes.c.idx <= max(blocks)
    )
    present = set(conn.execute(query).scalars().all())
    missing = [{"idx": i, "hash": h.hex()} for i, h in sorted(blocks.items()) if i not in present]
    if missing:
        conn.execute(audit_nodes.insert(), missing)
