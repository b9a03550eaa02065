"""The audit log as an RFC 6962 Merkle tree, read from the store.

Leaf i (0-based) is entry seq i+1; its data is the entry's 32-byte chain hash (`audit_log.hash`,
SHA-256 of the entry's fields and the hash before it, see `log.entry_hash`), so its leaf hash is
SHA-256(0x00 || those 32 bytes). The appenders are unchanged: the tree is computed from what
they write.

`audit_nodes` caches the hash of every complete aligned subtree of 2^level leaves, level >= 8,
up to the latest checkpoint: a root or a proof reads O(log n) nodes and at most one block of
256 entries, not the whole log. The cache is never trusted to verify: `recompute` hashes every
entry, and `scs audit verify --checkpoint` compares the cache with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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

BLOCK_LEVEL = 8
BLOCK = 1 << BLOCK_LEVEL  # leaves in the smallest cached subtree
Node = tuple[int, int]  # (level, idx): the leaves [idx·2^level, (idx+1)·2^level)


def log_size(conn: sa.Connection) -> int:
    """The number of entries, that is the last seq (a gap is found when the leaves are read)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(audit_log.c.seq), 0))).one()[0])


def entry_leaf(chain_hash: str) -> bytes:
    return leaf_hash(bytes.fromhex(chain_hash))


@dataclass
class StoredTree:
    """The tree of the first `size` entries, reading cached nodes as it needs them."""

    conn: sa.Connection
    size: int
    made: dict[Node, bytes] = field(default_factory=dict)  # computed here, not cached yet
    _nodes: dict[Node, bytes] = field(default_factory=dict)
    _leaves: dict[int, list[bytes]] = field(default_factory=dict)
    _frontier: dict[int, int] | None = None  # the last cached idx of each level

    def root(self) -> bytes:
        return self.subtree(0, self.size) if self.size else EMPTY_ROOT

    def leaf(self, index: int) -> bytes:
        return self._block_leaves(index // BLOCK)[index % BLOCK]

    def subtree(self, lo: int, hi: int) -> bytes:
        """The hash of the leaves [lo, hi), as RFC 6962 splits them."""
        n = hi - lo
        if n >= BLOCK and n & (n - 1) == 0 and lo % n == 0:
            return self.node(n.bit_length() - 1, lo // n)
        if lo // BLOCK == (hi - 1) // BLOCK:  # inside one block: hash its leaves
            first = lo - lo % BLOCK
            leaves = self._block_leaves(lo // BLOCK)
            return in_memory(leaves[lo - first : hi - first])(0, n)
        k = split(n)
        return node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))

    def node(self, level: int, idx: int) -> bytes:
        """A complete subtree: from memory, the cache, or computed (and kept in `made`)."""
        key = (level, idx)
        found = self._nodes.get(key)
        if found is not None:
            return found
        if self._frontier is None:  # nodes past it are not cached: no query for them
            query = sa.select(audit_nodes.c.level, sa.func.max(audit_nodes.c.idx))
            rows = self.conn.execute(query.group_by(audit_nodes.c.level)).all()
            self._frontier = {int(level): int(last) for level, last in rows}
        cached = None
        if idx <= self._frontier.get(level, -1):
            cached = self.conn.execute(
                sa.select(audit_nodes.c.hash).where(
                    audit_nodes.c.level == level, audit_nodes.c.idx == idx
                )
            ).scalar()
        if cached is not None:
            found = bytes.fromhex(cached)
        else:
            if level == BLOCK_LEVEL:
                found = in_memory(self._block_leaves(idx))(0, BLOCK)
            else:
                found = node_hash(self.node(level - 1, 2 * idx), self.node(level - 1, 2 * idx + 1))
            self.made[key] = found
        self._nodes[key] = found
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
    """Every entry hashed anew: the root at each size asked for, and every cacheable node."""

    size: int
    roots: dict[int, bytes]
    nodes: dict[Node, bytes]
    gap_at: int | None = None  # the first seq missing, when there is a gap


def recompute(rows: Iterable[tuple[int, str]], sizes: Iterable[int]) -> Recomputed:
    """Hash (seq, chain hash) rows, oldest first, into the tree, keeping the roots at `sizes`
    (the root of the whole tree is kept too, under its size)."""
    wanted = set(sizes)
    tree = Accumulator(watch=BLOCK)
    roots: dict[int, bytes] = {}
    nodes: dict[Node, bytes] = {}
    if 0 in wanted:
        roots[0] = EMPTY_ROOT
    for seq, chain_hash in rows:
        if seq != tree.size + 1:
            return Recomputed(tree.size, roots, nodes, gap_at=tree.size + 1)
        tree.add(entry_leaf(chain_hash))
        if tree.formed:
            for width, digest in tree.formed:
                nodes[(width.bit_length() - 1, tree.size // width - 1)] = digest
            tree.formed.clear()
        if tree.size in wanted:
            roots[tree.size] = tree.root()
    roots[tree.size] = tree.root()
    return Recomputed(tree.size, roots, nodes)


def stored_nodes(conn: sa.Connection) -> Iterator[tuple[Node, bytes]]:
    rows = conn.execution_options(yield_per=10_000).execute(
        sa.select(audit_nodes).order_by(audit_nodes.c.level, audit_nodes.c.idx)
    )
    with rows:
        for r in rows:
            yield (int(r.level), int(r.idx)), bytes.fromhex(r.hash)


def store_nodes(conn: sa.Connection, nodes: dict[Node, bytes]) -> None:
    """Cache nodes not cached yet (in the caller's write transaction, which holds the
    checkpoint lock: no other process adds nodes meanwhile)."""
    for level in sorted({level for level, _ in nodes}):
        at = {idx: h for (lv, idx), h in nodes.items() if lv == level}
        present = set(
            conn.execute(
                sa.select(audit_nodes.c.idx).where(
                    audit_nodes.c.level == level,
                    audit_nodes.c.idx >= min(at),
                    audit_nodes.c.idx <= max(at),
                )
            ).scalars()
        )
        missing = [
            {"level": level, "idx": i, "hash": h.hex()}
            for i, h in sorted(at.items())
            if i not in present
        ]
        if missing:
            conn.execute(audit_nodes.insert(), missing)
