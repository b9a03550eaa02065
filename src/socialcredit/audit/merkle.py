"""RFC 6962 (RFC 9162 §2.1) Merkle tree hashing, proofs and their verification.

A leaf's hash is SHA-256(0x00 || data), an interior node's SHA-256(0x01 || left || right), and
the tree over n leaves splits at the largest power of two below n. Proofs are built over a
`Subtree` function giving the hash of the leaves [lo, hi), so that the same code serves a list in
memory and the store's cached nodes. Tested against the Certificate Transparency vectors
(tests/audit/test_merkle.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

Subtree = Callable[[int, int], bytes]  # hash of the leaves [lo, hi), lo < hi
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not verify, with the reason."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The root over a list of leaf hashes (the empty tree's is SHA-256 of nothing)."""
    return in_memory(leaves)(0, len(leaves)) if leaves else EMPTY_ROOT


def in_memory(leaves: Sequence[bytes]) -> Subtree:
    def subtree(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        k = split(hi - lo)
        return node_hash(subtree(lo, lo + k), subtree(lo + k, hi))

    return subtree


class Accumulator:
    """The root of a growing tree, one leaf at a time, in O(log n) memory: the perfect
    subtrees of the binary decomposition of n, largest first."""

    def __init__(self, watch: int = 0) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (leaves, hash)
        self._watch = watch  # a subtree width (a power of two): `formed` collects wider ones
        self.formed: list[tuple[int, bytes]] = []  # (width, hash) of subtrees completed so far

    def add(self, leaf: bytes) -> None:
        self.size += 1
        width, current = 1, leaf
        while self._stack and self._stack[-1][0] == width:
            _, left = self._stack.pop()
            width, current = width * 2, node_hash(left, current)
            if self._watch and width >= self._watch:
                self.formed.append((width, current))
        self._stack.append((width, current))

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        current = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            current = node_hash(left, current)
        return current


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 PATH(index, D[size]): the sibling hashes from the leaf up to the root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_proof(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 PROOF(old, D[new]): what shows the tree of `old` leaves is a prefix of `new`."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    if old in (0, new):
        return []
    path: list[bytes] = []
    lo, hi, m, whole = 0, new, old, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                path.append(subtree(lo, hi))
            break
        k = split(n)
        if m <= k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    path.reverse()
    return path


def _shift_while_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while not (fn & 1 or fn == 0):
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that `proof` gives for `leaf` at `index`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    if len(leaf) != 32 or any(len(p) != 32 for p in proof):
        raise ProofError("every hash is 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_while_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless `proof` shows `leaf` at `index` in the tree with `root`."""
    if not hmac.compare_digest(root_from_inclusion(index, size, leaf, proof), root):
        raise ProofError("the proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless the tree `old_root` of `old` leaves is a
    prefix of the tree `new_root` of `new` leaves."""
    if not 0 <= old <= new:
        raise ProofError(f"the tree cannot shrink from {old} to {new} leaves")
    if old == new:
        if proof:
            raise ProofError("a proof between equal sizes is empty")
        if not hmac.compare_digest(old_root, new_root):
            raise ProofError("two trees of the same size have different roots")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree is empty")
        return
    if not proof:
        raise ProofError("the proof is empty")
    if any(len(p) != 32 for p in proof):
        raise ProofError("every hash is 32 bytes")
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old tree is itself a node of the new
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the trees are deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_while_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the trees are deep")
    if not hmac.compare_digest(fr, old_root):
        raise ProofError("the proof does not lead to the old root")
    if not hmac.compare_digest(sr, new_root):
        raise ProofError("the proof does not lead to the new root")
