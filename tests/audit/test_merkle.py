"""RFC 6962 hashing and proofs against the Certificate Transparency test vectors (as published
in transparency-dev/merkle's proof/verify_test.go), and every proof of small trees."""

from __future__ import annotations

import pytest

from socialcredit.audit.merkle import (
    EMPTY_ROOT,
    Accumulator,
    ProofError,
    consistency_proof,
    in_memory,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (old size, new size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
HASHES = [leaf_hash(data) for data in LEAVES]


def test_roots_are_the_reference_roots_for_every_size() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    for size in range(len(LEAVES) + 1):
        assert root_of(HASHES[:size]).hex() == ROOTS[size]
        growing = Accumulator()
        for leaf in HASHES[:size]:
            growing.add(leaf)
        assert growing.root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_are_the_reference_proofs(index: int, size: int, proof: list[str]) -> None:
    made = inclusion_proof(index, size, in_memory(HASHES[:size]))
    assert [p.hex() for p in made] == proof
    root = bytes.fromhex(ROOTS[size])
    verify_inclusion(index, size, HASHES[index], made, root)
    for wrong_size in (size * 2, size // 2):
        with pytest.raises(ProofError):
            verify_inclusion(index, wrong_size, HASHES[index], made, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, HASHES[index], made, EMPTY_ROOT)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_are_the_reference_proofs(old: int, new: int, proof: list[str]) -> None:
    made = consistency_proof(old, new, in_memory(HASHES[:new]))
    assert [p.hex() for p in made] == proof
    verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), made)


def _flip(proof: list[bytes], i: int) -> list[bytes]:
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ 8]) + changed[i][1:]
    return changed


def test_every_proof_of_small_trees_verifies_and_no_corruption_does() -> None:
    leaves = [leaf_hash(bytes([i, i * 7 % 256])) for i in range(37)]
    roots = [root_of(leaves[:n]) for n in range(len(leaves) + 1)]
    for size in range(1, len(leaves) + 1):
        tree = in_memory(leaves[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, tree)
            verify_inclusion(index, size, leaves[index], proof, roots[size])
            wrong = [(index, size, leaves[(index + 1) % size], proof)] if size > 1 else []
            wrong.append((index, size, leaves[index], [*proof, roots[size]]))
            wrong += [(index, size, leaves[index], _flip(proof, i)) for i in range(len(proof))]
            if index + 1 < size:
                wrong.append((index + 1, size, leaves[index], proof))
            for args in wrong:
                with pytest.raises(ProofError):
                    verify_inclusion(*args, roots[size])
        for old in range(size + 1):
            proof = consistency_proof(old, size, tree)
            verify_consistency(old, size, roots[old], roots[size], proof)
            if 0 < old < size:
                with pytest.raises(ProofError):
                    verify_consistency(old, size, roots[old - 1], roots[size], proof)
                with pytest.raises(ProofError):
                    verify_consistency(old, size, roots[old], roots[size - 1], proof)
                for i in range(len(proof)):
                    with pytest.raises(ProofError):
                        verify_consistency(old, size, roots[old], roots[size], _flip(proof, i))


def test_a_shrinking_tree_or_a_leaf_outside_it_is_refused() -> None:
    with pytest.raises(ProofError, match="cannot shrink"):
        verify_consistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(3, 3, HASHES[0], [], EMPTY_ROOT)


def test_the_accumulator_collects_every_aligned_subtree_it_completes() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(40)]
    tree = in_memory(leaves)
    growing = Accumulator(watch=4)
    for size, leaf in enumerate(leaves, start=1):
        growing.add(leaf)
        assert growing.root() == root_of(leaves[:size])
        expected = [(w, tree(size - w, size)) for w in (4, 8, 16, 32) if size % w == 0]
        assert growing.formed == expected
        growing.formed.clear()
