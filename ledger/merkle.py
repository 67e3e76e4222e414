"""RFC 9162 §2.1 Merkle tree hashing, stored-hash layout, proofs and their verification.

Pure functions. Hashes live in Go tlog's stored-hash layout (golang.org/x/mod/sumdb/tlog):
for each level, the hashes of complete subtrees, interleaved so that appending leaf n writes
hashes at indexes ``stored_hash_index(0, n)`` onwards and never rewrites one. Roots and proofs
read O(log n) stored hashes through a *hash reader*: a callable that takes a list of stored
indexes and returns the hashes at those indexes, in order.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "HashReader",
    "InvalidProof",
    "compact_push",
    "compact_root",
    "consistency_proof",
    "covering_subtrees",
    "inclusion_plan",
    "inclusion_proof",
    "leaf_for_stored_index",
    "leaf_hash",
    "multileaf_gaps",
    "multileaf_root",
    "node_hash",
    "root_from_leaf_hashes",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes_for_leaf",
    "subtree_hash",
    "tree_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

HashReader = Callable[[Sequence[int]], Sequence[bytes]]

_LEAF = hashlib.sha256(b"\x00")
_NODE = hashlib.sha256(b"\x01")


class InvalidProof(ValueError):
    """A Merkle proof does not verify, or its inputs are malformed."""


def leaf_hash(data: bytes) -> bytes:
    """Return SHA-256(0x00 ‖ data)."""
    h = _LEAF.copy()
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 ‖ left ‖ right)."""
    h = _NODE.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def stored_hash_index(level: int, n: int) -> int:
    """Return the stored index of the n-th hash at the given level (Go tlog layout)."""
    # Level L's n-th hash is written right after level L+1's (2n+1)-th hash, so map it down
    # to level 0 (n -> 2n+1, L times); level 0's m-th hash sits at m + m/2 + m/4 + ...,
    # which is 2m - popcount(m).
    m = ((n + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def leaf_for_stored_index(stored_index: int) -> int:
    """Return the leaf whose append wrote the hash at stored_index."""
    # Leaf n writes [stored_hash_index(0, n), stored_hash_index(0, n + 1)); find n by bisection.
    lo, hi = 0, stored_index + 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if stored_hash_index(0, mid) <= stored_index:
            lo = mid
        else:
            hi = mid - 1
    return lo


def stored_hash_count(n: int) -> int:
    """Return how many hashes are stored for a tree of n leaves."""
    if n == 0:
        return 0
    count = stored_hash_index(0, n - 1) + 1
    i = n - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def stored_hashes_for_leaf(n: int, leaf: bytes, read: HashReader) -> list[bytes]:
    """Return the hashes to store, from ``stored_hash_index(0, n)`` on, when adding leaf n."""
    # Each trailing 1 bit of n completes a subtree, consuming the hash of its left sibling.
    m = ((n + 1) & -(n + 1)).bit_length() - 1
    indexes = [stored_hash_index(i, (n >> i) - 1) for i in range(m - 1, -1, -1)]
    old = list(read(indexes)) if indexes else []
    hashes = [leaf]
    h = leaf
    for i in range(m):
        h = node_hash(old[m - 1 - i], h)
        hashes.append(h)
    return hashes


def _maxpow2(n: int) -> tuple[int, int]:
    """Return (k, log2 k) for the largest power of two k strictly below n."""
    level = (n - 1).bit_length() - 1
    return 1 << level, level


def _subtree_index(lo: int, hi: int, need: list[int]) -> list[int]:
    while lo < hi:
        k, level = _maxpow2(hi - lo + 1)
        need.append(stored_hash_index(level, lo >> level))
        lo += k
    return need


def _subtree_hash(lo: int, hi: int, hashes: list[bytes], pos: int) -> tuple[bytes, int]:
    count = 0
    while lo < hi:
        k, _ = _maxpow2(hi - lo + 1)
        count += 1
        lo += k
    h = hashes[pos + count - 1]
    for i in range(pos + count - 2, pos - 1, -1):
        h = node_hash(hashes[i], h)
    return h, pos + count


def _read(read: HashReader, indexes: list[int]) -> list[bytes]:
    hashes = list(read(indexes))
    if len(hashes) != len(indexes):
        raise InvalidProof(f"hash reader returned {len(hashes)} hashes for {len(indexes)}")
    return hashes


def subtree_hash(lo: int, hi: int, read: HashReader) -> bytes:
    """Return the hash of leaves [lo, hi): an aligned subtree, or the right edge's rest."""
    if not 0 <= lo < hi:
        raise ValueError(f"no subtree of leaves [{lo}, {hi})")
    return _subtree_hash(lo, hi, _read(read, _subtree_index(lo, hi, [])), 0)[0]


def tree_hash(n: int, read: HashReader) -> bytes:
    """Return the root of the first n leaves, reading O(log n) stored hashes."""
    if n < 0:
        raise ValueError("negative tree size")
    if n == 0:
        return EMPTY_ROOT
    indexes = _subtree_index(0, n, [])
    return _subtree_hash(0, n, _read(read, indexes), 0)[0]


def inclusion_plan(index: int, size: int) -> tuple[list[int], list[int], int, int]:
    """Return what an inclusion proof needs: (stored indexes, their levels, fringe_at, lo).

    The proof is the hashes at those stored indexes, in order, with the hash of the right
    edge's incomplete subtree of leaves [lo, size) inserted at position fringe_at (-1: none).
    Levels come in ascending order.
    """
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    # Below level `inner` the path runs inside the subtree shared with the last leaf, so
    # every sibling is a complete subtree except perhaps the top one (the right fringe);
    # above it, only left siblings appear (where index has a 1 bit), all complete.
    inner = (index ^ (size - 1)).bit_length()
    # stored_hash_index(level, sibling), inlined: this is the hot path of proofs. Below the
    # top inner level every sibling is complete.
    indexes = [
        2 * m - m.bit_count() + level
        for level in range(inner - 1)
        for m in (((((index >> level) ^ 1) + 1) << level) - 1,)
    ]
    levels = list(range(inner - 1))
    fringe_at, fringe_lo = -1, 0
    if inner:
        level = inner - 1
        sibling = (index >> level) ^ 1
        lo = sibling << level
        if lo + (1 << level) <= size:
            m = ((sibling + 1) << level) - 1
            indexes.append(2 * m - m.bit_count() + level)
            levels.append(level)
        else:
            # Only the top inner sibling can be cut short by the tree's right edge.
            fringe_at, fringe_lo = len(indexes), lo
    level, rest = inner, index >> inner
    while rest:
        if rest & 1:
            m = (rest << level) - 1
            indexes.append(2 * m - m.bit_count() + level)
            levels.append(level)
        rest >>= 1
        level += 1
    return indexes, levels, fringe_at, fringe_lo


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    indexes, _, fringe_at, fringe_lo = inclusion_plan(index, size)
    if fringe_at < 0:
        return _read(read, indexes) if indexes else []
    fringe = _subtree_index(fringe_lo, size, [])
    hashes = _read(read, indexes + fringe)
    hashes.insert(fringe_at, _subtree_hash(fringe_lo, size, hashes, len(indexes))[0])
    del hashes[len(indexes) + 1 :]
    return hashes


def _tree_proof_index(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if n == hi:
        return need if lo == 0 else _subtree_index(lo, hi, need)
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        _tree_proof_index(lo, lo + k, n, need)
        _subtree_index(lo + k, hi, need)
    else:
        _subtree_index(lo, lo + k, need)
        _tree_proof_index(lo + k, hi, n, need)
    return need


def _tree_proof(lo: int, hi: int, n: int, hashes: list[bytes], pos: int):
    if n == hi:
        if lo == 0:
            return [], pos
        th, pos = _subtree_hash(lo, hi, hashes, pos)
        return [th], pos
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        proof, pos = _tree_proof(lo, lo + k, n, hashes, pos)
        th, pos = _subtree_hash(lo + k, hi, hashes, pos)
    else:
        th, pos = _subtree_hash(lo, lo + k, hashes, pos)
        proof, pos = _tree_proof(lo + k, hi, n, hashes, pos)
    proof.append(th)
    return proof, pos


def consistency_proof(old_size: int, new_size: int, read: HashReader) -> list[bytes]:
    """Return the RFC 9162 consistency proof from ``old_size`` to ``new_size``."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    indexes = _tree_proof_index(0, new_size, old_size, [])
    if not indexes:
        return []
    return _tree_proof(0, new_size, old_size, _read(read, indexes), 0)[0]


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """Return the root over all leaf hashes, level by level (no stored hashes needed)."""
    # Pairing neighbours and promoting an odd last node gives the RFC 9162 tree shape.
    level = list(leaves)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        odd = level[-1] if len(level) & 1 else None
        level = [node_hash(a, b) for a, b in zip(level[0::2], level[1::2], strict=False)]
        if odd is not None:
            level.append(odd)
    return level[0]


def _equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof (RFC 9162 §2.1.3.2); raise InvalidProof if it fails."""
    if not 0 <= index < size:
        raise InvalidProof(f"index {index} is outside a tree of size {size}")
    _check_hash("leaf hash", leaf)
    _check_hash("root", root)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash("proof hash", p)
        if sn == 0:
            raise InvalidProof("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("inclusion proof is too short")
    if not _equal(r, root):
        raise InvalidProof("inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check a consistency proof (RFC 9162 §2.1.4.2); raise InvalidProof if it fails."""
    if old_size < 0 or new_size < old_size:
        raise InvalidProof(f"size {old_size} cannot grow into size {new_size}")
    if old_size == new_size:
        if proof:
            raise InvalidProof("proof between equal sizes must be empty")
        if old_size == 0 and not _equal(old_root, EMPTY_ROOT):
            raise InvalidProof("root of the empty tree is not SHA-256 of nothing")
        if not _equal(old_root, new_root):
            raise InvalidProof("roots of equal sizes differ")
        return
    if old_size == 0:
        # RFC 9162 defines consistency proofs for 0 < first < second only.
        raise InvalidProof("consistency from the empty tree proves nothing")
    if not proof:
        raise InvalidProof("empty consistency proof")
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    for p in proof:
        _check_hash("proof hash", p)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("consistency proof is too short")
    if not _equal(fr, old_root):
        raise InvalidProof("consistency proof does not lead to the old root")
    if not _equal(sr, new_root):
        raise InvalidProof("consistency proof does not lead to the new root")


def covering_subtrees(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    """Return the largest subtrees of the tree of size leaves that cover leaves [lo, hi).

    Left to right, as [start, end) leaf ranges. Every piece is a complete aligned subtree
    except, when hi is size, perhaps the last: the right edge's incomplete subtree.
    """
    if not 0 <= lo <= hi <= size:
        raise ValueError(f"no leaves [{lo}, {hi}) in a tree of size {size}")
    cut = hi
    if hi == size and lo < size:
        # The right edge's subtrees start where size's low bits are cleared; the largest
        # one that starts inside the range is a single node, whatever lies left of it.
        level = 0
        while (size >> (level + 1)) << (level + 1) >= lo and size >> level:
            level += 1
        cut = (size >> level) << level
    pieces = []
    while lo < cut:
        # The largest aligned block starting at lo that ends by cut.
        level = (cut - lo).bit_length() - 1
        if lo:
            level = min(level, (lo & -lo).bit_length() - 1)
        pieces.append((lo, lo + (1 << level)))
        lo += 1 << level
    if cut < hi:
        pieces.append((cut, hi))
    return pieces


def multileaf_gaps(indexes: Sequence[int], size: int) -> list[list[tuple[int, int]]]:
    """Return the subtrees a multi-leaf proof holds: one list before each leaf, one after.

    indexes must be strictly increasing leaves of the tree of size leaves. The subtrees are
    those that hold none of the leaves but whose parent holds one: the fewest hashes from
    which the root follows. Gap j covers the leaves between leaf j-1 and leaf j.
    """
    gaps, prev = [], -1
    for index in indexes:
        if not prev < index < size:
            raise ValueError(f"leaf {index} is not after {prev} and inside size {size}")
        gaps.append(covering_subtrees(prev + 1, index, size))
        prev = index
    gaps.append(covering_subtrees(prev + 1, size, size))
    return gaps


def multileaf_root(
    size: int,
    indexes: Sequence[int],
    leaves: Sequence[bytes],
    gaps: Sequence[Sequence[bytes]],
) -> bytes:
    """Return the root recomputed from leaf hashes and a multi-leaf proof's gap hashes.

    :raises InvalidProof: the proof does not have the shape ``multileaf_gaps`` gives.
    """
    if len(leaves) != len(indexes) or len(gaps) != len(indexes) + 1:
        raise InvalidProof("a multi-leaf proof needs one gap per leaf and one after")
    try:
        shape = multileaf_gaps(indexes, size)
    except ValueError as exc:
        raise InvalidProof(str(exc)) from None
    # Subtrees arrive left to right; the compact range of the leaves so far folds into the
    # RFC 9162 root, the right edge's incomplete subtree (if any) last.
    stack: list[tuple[int, int, bytes]] = []
    fringe = None
    for j, pieces in enumerate(shape):
        if len(gaps[j]) != len(pieces):
            raise InvalidProof(f"gap {j} holds {len(gaps[j])} hashes, not {len(pieces)}")
        for (lo, hi), h in zip(pieces, gaps[j], strict=True):
            _check_hash("proof hash", h)
            width = hi - lo
            if width & (width - 1):
                fringe = h  # only the trailer's last piece can be incomplete
            else:
                compact_push(stack, lo, width.bit_length() - 1, h)
        if j < len(leaves):
            _check_hash("leaf hash", leaves[j])
            compact_push(stack, indexes[j], 0, leaves[j])
    return compact_root(stack, fringe)


def compact_push(stack: list[tuple[int, int, bytes]], lo: int, level: int, h: bytes) -> None:
    """Add the complete subtree of 2**level leaves from leaf lo to a compact range.

    stack holds (first leaf, level, hash) of the subtrees covering the leaves so far, left to
    right; subtrees must arrive in order and adjoin. Two neighbours merge when they are the
    two halves of an aligned subtree, so the stack stays O(log n) deep.
    """
    while stack:
        top_lo, top_level, top = stack[-1]
        if top_level != level or top_lo & ((2 << level) - 1):
            break
        stack.pop()
        n = _NODE.copy()
        n.update(top)
        n.update(h)
        h, lo, level = n.digest(), top_lo, level + 1
    stack.append((lo, level, h))


def compact_root(stack: Sequence[tuple[int, int, bytes]], fringe: bytes | None = None) -> bytes:
    """Return the root of a compact range from leaf 0, with the right edge's rest (fringe)."""
    hashes = [h for _, _, h in stack] + ([fringe] if fringe is not None else [])
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root
