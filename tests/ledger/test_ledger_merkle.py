"""The Merkle tree matches RFC 9162: transparency-dev vectors and a reference implementation."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import InvalidProof

# Vectors from independent implementations, vendored with their licence (see vectors/README.md).
VECTORS = Path(__file__).resolve().parent / "vectors"


def _b64(value):
    return base64.b64decode(value) if value else b""


def _cases(kind: str) -> list[Path]:
    found = sorted((VECTORS / "rfc6962" / kind).rglob("*.json"))
    if not found:
        raise AssertionError(f"no {kind} vectors under {VECTORS}")
    return found


def _id(path: Path) -> str:
    return "/".join(path.parts[-2:])


@pytest.mark.parametrize("path", _cases("inclusion"), ids=_id)
def test_inclusion_vectors(path: Path):
    case = json.loads(path.read_text())
    args = (
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        [_b64(h) for h in case["proof"] or []],
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(InvalidProof):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", _cases("consistency"), ids=_id)
def test_consistency_vectors(path: Path):
    case = json.loads(path.read_text())
    args = (
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        [_b64(h) for h in case["proof"] or []],
    )
    if case["wantErr"]:
        with pytest.raises(InvalidProof):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_vectors_include_happy_paths():
    happy = [p for p in _cases("inclusion") + _cases("consistency") if p.name == "happy-path.json"]
    assert len(happy) >= 8


# Reference implementation straight from RFC 9162 §2.1.1-2.1.4 (recursive, slow, obvious).
def _k(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = _k(len(leaves))
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m, leaves):
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


def _subproof(m, leaves, complete):
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = _k(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [_mth(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [_mth(leaves[:k])]


class MemoryTree:
    """A stored-hash array in memory, grown leaf by leaf like the store does."""

    def __init__(self):
        self.hashes: list[bytes] = []

    def read(self, indexes):
        return [self.hashes[i] for i in indexes]

    def append(self, n, data):
        assert len(self.hashes) == merkle.stored_hash_index(0, n)
        self.hashes.extend(merkle.stored_hashes_for_leaf(n, merkle.leaf_hash(data), self.read))
        assert len(self.hashes) == merkle.stored_hash_count(n + 1)


def _tree(n):
    leaves = [b"leaf %d" % i for i in range(n)]
    tree = MemoryTree()
    for i, data in enumerate(leaves):
        tree.append(i, data)
    return leaves, tree


def test_roots_proofs_match_reference_for_small_trees():
    leaves, tree = _tree(40)
    for n in range(0, 41):
        root = merkle.tree_hash(n, tree.read)
        assert root == _mth(leaves[:n])
        assert merkle.root_from_leaf_hashes([merkle.leaf_hash(x) for x in leaves[:n]]) == root
        for i in range(n):
            proof = merkle.inclusion_proof(i, n, tree.read)
            assert proof == _path(i, leaves[:n])
            merkle.verify_inclusion(i, n, merkle.leaf_hash(leaves[i]), proof, root)
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(m, n, tree.read)
            assert proof == _subproof(m, leaves[:n], True)
            merkle.verify_consistency(m, n, _mth(leaves[:m]), root, proof)


def test_root_reads_logarithmically_many_hashes():
    _, tree = _tree(1000)
    reads = []

    def counting(indexes):
        reads.append(len(indexes))
        return tree.read(indexes)

    merkle.tree_hash(1000, counting)
    merkle.inclusion_proof(417, 1000, counting)
    merkle.consistency_proof(333, 1000, counting)
    assert all(r <= 2 * 10 for r in reads) and len(reads) == 3


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 70), st.data())
def test_tampered_proof_is_rejected(n, data):
    leaves, tree = _tree(n)
    root = merkle.tree_hash(n, tree.read)
    i = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(i, n, tree.read)
    leaf = merkle.leaf_hash(leaves[i])
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = list(proof)
        bad[j] = bytes(b ^ (1 << (bit % 8)) if k == bit // 8 else b for k, b in enumerate(bad[j]))
        with pytest.raises(InvalidProof):
            merkle.verify_inclusion(i, n, leaf, bad, root)
    with pytest.raises(InvalidProof):
        merkle.verify_inclusion(i, n, merkle.leaf_hash(b"other"), proof, root)


@settings(max_examples=40, deadline=None)
@given(st.integers(41, 600), st.data())
def test_inclusion_proofs_match_reference_on_larger_trees(n, data):
    leaves, tree = _tree(n)
    i = data.draw(st.integers(0, n - 1))
    assert merkle.inclusion_proof(i, n, tree.read) == _path(i, leaves)
    m = data.draw(st.integers(1, n))
    assert merkle.consistency_proof(m, n, tree.read) == _subproof(m, leaves, True)
