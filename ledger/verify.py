"""Offline verification of ledger exports and receipt bundles, without the app or a database.

Only the standard library, ``cryptography`` and ``asn1crypto`` are needed (no peewee, ntplib,
flask or coop), so a client can run ``python -m ledger verify-export`` or ``verify-bundle`` on a
copy of this package alone. Formats are described in docs/ledger-format.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import mmap
import operator
import os
import re
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .entry import (
    _HEAD,
    _TAIL,
    _TAIL_MIN,
    GENESIS_PREV,
    InvalidEntry,
    decode_entry,
    parse_envelope,
    rfc3339_ns,
)
from .interval import CheckedStamp, Interval, check_stamps, interval_json, intervals_for, time_flag
from .merkle import _LEAF, EMPTY_ROOT, InvalidProof, leaf_hash, node_hash, verify_inclusion
from .note import Checkpoint, InvalidNote, Verifier, open_checkpoint
from .witness.cosignature import CosignatureVerifier, check_witnesses

__all__ = [
    "BUNDLE_FORMAT",
    "EXPORT_CHECKPOINT",
    "EXPORT_ENTRIES",
    "EXPORT_TIMESTAMPS",
    "ChainChecker",
    "LedgerTampered",
    "VerifiedBundle",
    "VerifiedExport",
    "file_sha256",
    "iter_export_entries",
    "verify_bundle",
    "verify_export",
]

EXPORT_ENTRIES = "entries.bin"
EXPORT_CHECKPOINT = "checkpoint"
EXPORT_TIMESTAMPS = "timestamps.json"
BUNDLE_FORMAT = "coop-ledger-receipt/1"
_LENGTH = struct.Struct(">I")
_GENESIS_HEX = GENESIS_PREV.hex().encode()
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Below this many entries one process is faster than starting workers.
_PARALLEL_MIN = 50_000
_CHUNK_LOG2 = 16
# Entries checked per batch by ChainChecker.scan: bounds the memory of the batch's hashes.
_SCAN_BATCH = 1 << 14
_node = hashlib.sha256


class LedgerTampered(Exception):
    """The ledger or an export of it is not what was signed; names the first bad index."""

    def __init__(self, index: int, reason: str):
        super().__init__(f"entry {index}: {reason}")
        self.index = index
        self.reason = reason


class ChainChecker:
    """Check entries one by one: index sequence, prev links, time order, and the tree."""

    def __init__(self, strict: bool = False):
        self.size = 0
        self.strict = strict
        self._prev = _GENESIS_HEX
        self._unix_ns = 0
        # Roots of the complete subtrees covering the leaves so far, largest first.
        self._frontier: list[tuple[int, bytes]] = []

    def add(self, raw: bytes) -> list[bytes]:
        """Check the next entry; return the stored hashes its append must have written."""
        index = self.size
        leaf = leaf_hash(raw)
        self.check_fields(index, raw)
        self._prev = leaf.hex().encode()
        self.size += 1
        return self.push(leaf)

    def scan(self, buf: Any, start: int = 0, stop: int | None = None) -> None:
        """Check the length-prefixed entries in buf[start:stop], as add() would, faster.

        The same checks as add() with strict=False, naming the same first bad entry. Verifying
        a big export is mostly this loop, so only what must be done per entry is done in it
        (hash, grammar, index, time); the prev links and the tree are checked per batch with
        a few calls into C (hexlify, join, comparisons of whole batches, one comprehension per
        tree level).
        """
        if self.strict:
            for raw in _read_length_prefixed(buf[start:stop]):
                self.add(raw)
            return
        stop = len(buf) if stop is None else stop
        # Entries are hashed and matched in place: no copy of each entry's bytes.
        view = memoryview(buf)
        try:
            pos = start
            while pos < stop:
                pos = self._scan_batch(buf, view, pos, stop)
        finally:
            view.release()

    def _scan_batch(self, buf: Any, view: memoryview, pos: int, stop: int) -> int:
        """Check up to _SCAN_BATCH entries from byte pos; return where the next one starts."""
        unpack, leaf_hasher = _LENGTH.unpack_from, _LEAF.copy
        tail, head, marker = _TAIL.fullmatch, _HEAD, b',"index":'
        # The top-level marker starts a tail of at least _TAIL_MIN bytes, which holds no
        # other marker: searching back from there finds the same one, sooner.
        short = _TAIL_MIN - len(marker)
        first = self.size
        leaves: list[bytes] = []
        fields: list[tuple[bytes, bytes, bytes]] = []  # each entry's index, prev and unix_ns
        add_leaf, add_fields = leaves.append, fields.append
        try:
            for _ in range(_SCAN_BATCH):
                if pos >= stop:
                    break
                body = pos + 4
                pos = body + unpack(buf, pos)[0]
                if pos > stop:
                    raise LedgerTampered(first + len(fields), "export is truncated inside an entry")
                h = leaf_hasher()
                h.update(view[body:pos])
                add_leaf(h.digest())
                at = buf.rfind(marker, body, pos - short)
                ok = at > body and buf.find(head, body, body + len(head)) == body
                m = tail(buf, at, pos) if ok else None
                if m is None:
                    raise LedgerTampered(
                        first + len(fields), "entry bytes do not follow the entry format"
                    )
                add_fields(m.group(1, 3, 4))
        except LedgerTampered:
            # A fault in an entry before the one that failed here comes first: report it.
            self._check_fields(first, leaves, fields)
            raise
        self._check_fields(first, leaves, fields)
        self._fold(leaves)
        return pos

    def _check_fields(self, first: int, leaves: list[bytes], fields: list[tuple]) -> None:
        """Check the index, prev link and time of the entries from index first, as add() does
        one by one, with a few calls into C per batch; raise for the first fault, in add()'s
        order (index, then prev, then time, for the earliest entry)."""
        n = len(fields)
        if not n:
            return
        indexes, prevs, times = zip(*fields, strict=True)
        faults = []
        got = list(map(int, indexes))
        if got != list(range(first, first + n)):
            at = next(i for i in range(n) if got[i] != first + i)
            faults.append((at, 0, f"entry says it is index {got[at]}"))
        expected = self._prev + binascii.hexlify(b"".join(leaves[: n - 1]))
        joined = b"".join(prevs)
        if joined != expected:
            at = next(i for i in range(n) if joined[64 * i : 64 * i + 64]
                      != expected[64 * i : 64 * i + 64])  # fmt: skip
            faults.append((at, 1, f"prev does not match the leaf hash of entry {first + at - 1}"))
        stamps = list(map(int, times))
        earlier = [self._unix_ns, *stamps[:-1]]
        if any(map(operator.gt, earlier, stamps)):
            at = next(i for i in range(n) if earlier[i] > stamps[i])
            faults.append((at, 2, "timestamp is earlier than the previous entry's"))
        if faults:
            at, _order, reason = min(faults)
            raise LedgerTampered(first + at, reason)
        self.size, self._unix_ns = first + n, stamps[-1]
        self._prev = binascii.hexlify(leaves[n - 1])

    def _fold(self, leaves: list[bytes]) -> None:
        """Add leaf hashes to the tree a level at a time (the same tree as push())."""
        pending = dict(self._frontier)  # level -> the complete subtree waiting for a sibling
        level, nodes = 0, leaves
        while nodes:
            left = pending.pop(level, None)
            if left is not None:
                nodes = [left, *nodes]
            if len(nodes) % 2:
                pending[level] = nodes.pop()
            pairs = iter(nodes)
            nodes = [_node(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
            level += 1
        self._frontier = sorted(pending.items(), reverse=True)

    def check_fields(self, index: int, raw: bytes) -> None:
        """Check an entry's own fields against the chain so far."""
        if self.strict:
            try:
                entry = decode_entry(raw)
            except InvalidEntry as exc:
                raise LedgerTampered(index, f"entry does not decode: {exc}") from None
            fields = (entry.index, entry.prev.hex().encode(), entry.time.unix_ns)
        else:
            fields = parse_envelope(raw)
            if fields is None:
                raise LedgerTampered(index, "entry bytes do not follow the entry format")
        got_index, prev, unix_ns = fields
        if got_index != index:
            raise LedgerTampered(index, f"entry says it is index {got_index}")
        if not hmac.compare_digest(prev, self._prev):
            # Only the link is known to be broken: this entry or the one before was altered.
            raise LedgerTampered(index, f"prev does not match the leaf hash of entry {index - 1}")
        if unix_ns < self._unix_ns:
            raise LedgerTampered(index, "timestamp is earlier than the previous entry's")
        self._unix_ns = unix_ns

    def push(self, leaf: bytes) -> list[bytes]:
        """Add a leaf hash to the tree; return the new stored hashes (tlog order)."""
        written = [leaf]
        h, level = leaf, 0
        frontier = self._frontier
        while frontier and frontier[-1][0] == level:
            h = node_hash(frontier.pop()[1], h)
            level += 1
            written.append(h)
        frontier.append((level, h))
        return written

    def push_subtree(self, h: bytes, level: int) -> None:
        """Add the root of a complete aligned subtree of 2**level leaves (-1: final fringe)."""
        frontier = self._frontier
        while level >= 0 and frontier and frontier[-1][0] == level:
            h = node_hash(frontier.pop()[1], h)
            level += 1
        frontier.append((level, h))

    def root(self) -> bytes:
        """Return the root of the tree so far."""
        if not self._frontier:
            return EMPTY_ROOT
        h = self._frontier[-1][1]
        for _, left in reversed(self._frontier[:-1]):
            h = node_hash(left, h)
        return h


def _read_length_prefixed(buf: Any, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    size = len(buf)
    pos = start
    count = 0
    while pos < size and (stop is None or count < stop):
        if pos + 4 > size:
            raise ValueError("truncated length prefix")
        (length,) = _LENGTH.unpack_from(buf, pos)
        end = pos + 4 + length
        if end > size:
            raise ValueError("truncated entry")
        yield bytes(buf[pos + 4 : end])
        pos = end
        count += 1


def iter_export_entries(folder: str | os.PathLike) -> Iterator[bytes]:
    """Yield the stored bytes of each entry in an export folder, in index order."""
    path = Path(folder) / EXPORT_ENTRIES
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            yield from _read_length_prefixed(buf)


@dataclass(frozen=True)
class VerifiedExport:
    """What a verified export proved: this many entries, this root, this checkpoint."""

    size: int
    root: bytes
    checkpoint: Checkpoint
    # The verified time-stamps (docs/ledger-format.md §9) and the entries whose NTP time
    # lies outside the interval they give.
    stamps: tuple[CheckedStamp, ...] = ()
    flags: tuple[str, ...] = ()


def _walk(buf: Any, every: int) -> Iterator[tuple[int, int]]:
    """Yield (entries so far, byte offset) after every ``every`` entries and at the end.

    Reads only the 4-byte length prefixes. Raises LedgerTampered if the file is truncated.
    """
    pos, size, count = 0, len(buf), 0
    last = size - 4
    unpack = _LENGTH.unpack_from
    while pos < size:
        for _ in range(every):
            if pos >= size:
                break
            if pos > last:
                raise LedgerTampered(count, "export is truncated inside a length prefix")
            pos += 4 + unpack(buf, pos)[0]
            count += 1
        if pos > size:
            raise LedgerTampered(count - 1, "export is truncated inside an entry")
        yield count, pos


def _check_chunk(path: str, first: int, start: int, stop: int, strict: bool) -> tuple:
    """Check the entries from index ``first`` stored at bytes [start, stop) of path.

    Returns ("ok", subtree root, first entry's prev, last leaf hex, first unix_ns, last
    unix_ns) for the parent to check the seams, or ("bad", index, reason).
    """
    # Scanned in place in the shared page cache: copying the chunk out costs more than it saves.
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        head = parse_envelope(next(_read_length_prefixed(buf, start, 1)))
        if head is None:
            return ("bad", first, "entry bytes do not follow the entry format")
        checker = ChainChecker(strict)
        checker.size = first
        # The seam with the previous chunk is checked by the parent, from what we return.
        checker._prev = head[1]
        try:
            checker.scan(buf, start, stop)
        except LedgerTampered as exc:
            return ("bad", exc.index, exc.reason)
    return ("ok", checker.root(), head[1], checker._prev, head[2], checker._unix_ns)


def _verify_entries(path: str, buf: Any, strict: bool) -> tuple[int, bytes]:
    """Check every entry of a non-empty export; return (number of entries, root)."""
    chunk = 1 << _CHUNK_LOG2
    walk = _walk(buf, chunk)
    bounds = [(0, 0)]
    for bound in walk:
        bounds.append(bound)
        if bound[0] >= _PARALLEL_MIN:
            break
    if bounds[-1][0] < _PARALLEL_MIN or (os.cpu_count() or 1) < 2:
        # Small, or one CPU: workers would only add their start-up time.
        bounds.extend(walk)
        checker = ChainChecker(strict)
        checker.scan(buf)
        return checker.size, checker.root()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures: list = []

        def submit() -> None:
            # Chunk i holds entries [bounds[i][0], bounds[i + 1][0]).
            while len(futures) < len(bounds) - 1:
                (first, start), (_, stop) = bounds[len(futures)], bounds[len(futures) + 1]
                futures.append(pool.submit(_check_chunk, path, first, start, stop, strict))

        # Workers start on the first chunks while this process finds where the rest begin.
        submit()
        try:
            for bound in walk:
                bounds.append(bound)
                submit()
        except LedgerTampered:
            for future in futures:
                future.cancel()
            raise
        results = [f.result() for f in futures]
    prev, last_ns = _GENESIS_HEX, 0
    tree = ChainChecker()
    for (first, _), (last, _), result in zip(bounds[:-1], bounds[1:], results, strict=True):
        if result[0] == "bad":
            raise LedgerTampered(result[1], result[2])
        _, root, first_prev, tail_prev, first_ns, chunk_last_ns = result
        if not hmac.compare_digest(first_prev, prev):
            raise LedgerTampered(first, f"prev does not match the leaf hash of entry {first - 1}")
        if first_ns < last_ns:
            raise LedgerTampered(first, "timestamp is earlier than the previous entry's")
        prev, last_ns = tail_prev, chunk_last_ns
        # A whole chunk is a complete aligned subtree; only the last chunk may be partial,
        # and then its root is the right-hand fringe that RFC 9162 folds in last.
        tree.push_subtree(root, _CHUNK_LOG2 if last - first == chunk else -1)
    return bounds[-1][0], tree.root()


def _export_size(folder: Path) -> int:
    """Return how many entries the export holds, reading only the length prefixes."""
    with open(folder / EXPORT_ENTRIES, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return 0
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            # Counts only grow: the largest is the last.
            return max(count for count, _end in _walk(buf, 1 << _CHUNK_LOG2))


def _load_checkpoint(
    folder: Path, verifier: Verifier | Sequence[Verifier], origin: str | None
) -> Checkpoint:
    try:
        data = (folder / EXPORT_CHECKPOINT).read_bytes()
    except OSError as exc:
        raise InvalidNote(f"cannot read the export's checkpoint: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # We only ever write UTF-8: the file was altered. It signs the whole export, so the
        # last entry is the first one it no longer vouches for.
        index = max(_export_size(folder) - 1, 0)
        raise LedgerTampered(index, f"checkpoint is not UTF-8 text (byte {exc.start})") from None
    return open_checkpoint(text, verifier, origin)


def verify_export(
    folder: str | os.PathLike,
    verifier: Verifier | Sequence[Verifier],
    strict: bool = False,
    witnesses: Sequence[CosignatureVerifier] = (),
    quorum: int = 0,
    trusted_tsas: Sequence = (),
    origin: str | None = None,
) -> VerifiedExport:
    """Recompute an export's chain and root and check them against its signed checkpoint.

    verifier is the log's key, or all its keys (old and new) after a rotation. The
    checkpoint's origin must be origin, by default the name of the key that signed it. With a
    quorum, at least that many of the witnesses must have cosigned the checkpoint. The
    time-stamps in timestamps.json, when present, are verified (their signers issued by one of
    trusted_tsas, when given), and entries outside the interval they give are flagged.

    :raises InvalidNote: the checkpoint is not signed by verifier, names another origin, or
        lacks the quorum.
    :raises LedgerTampered: an entry breaks the chain, or the root differs.
    """
    folder = Path(folder)
    checkpoint = _load_checkpoint(folder, verifier, origin)
    if quorum > 0:
        # _load_checkpoint has read it as UTF-8 and verified it.
        note = (folder / EXPORT_CHECKPOINT).read_text(encoding="utf-8")
        check_witnesses(note, witnesses, quorum)
    path = folder / EXPORT_ENTRIES
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            size, root = 0, EMPTY_ROOT
        else:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                size, root = _verify_entries(str(path), buf, strict)
    if size != checkpoint.size:
        bad = min(size, checkpoint.size)
        raise LedgerTampered(bad, f"export holds {size} entries, checkpoint {checkpoint.size}")
    if not hmac.compare_digest(root, checkpoint.root):
        raise LedgerTampered(max(size - 1, 0), "root does not match the signed checkpoint")
    stamps, flags = _export_stamps(folder, verifier, checkpoint, trusted_tsas)
    return VerifiedExport(size, root, checkpoint, stamps, flags)


def _export_stamps(
    folder: Path, verifier: Verifier, checkpoint: Checkpoint, trusted: Sequence
) -> tuple[tuple[CheckedStamp, ...], tuple[str, ...]]:
    """Verify an export's time-stamps; flag entries whose NTP time lies outside their interval.

    Entry times never decrease along a verified chain, so a stamp of size s is checked
    against two entries only: s - 1 (the latest before it) and s (the earliest after it).
    """
    path = folder / EXPORT_TIMESTAMPS
    if not path.exists():
        return (), ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidProof(f"cannot read {EXPORT_TIMESTAMPS}: {exc}") from None
    stamps = check_stamps(data, verifier, checkpoint.size, checkpoint.root, trusted)
    wanted = {i for s in stamps for i in (s.size - 1, s.size) if 0 <= i < checkpoint.size}
    times = _entry_times(folder / EXPORT_ENTRIES, wanted)
    flags = []
    for stamp in stamps:
        before, after = times.get(stamp.size - 1), times.get(stamp.size)
        if before is not None and before > stamp.latest_ns:
            flags.append(
                f"entry {stamp.size - 1}: NTP time {rfc3339_ns(before)} is after {stamp.tsa}'s "
                f"upper bound {rfc3339_ns(stamp.latest_ns)}"
            )
        if after is not None and after < stamp.earliest_ns:
            flags.append(
                f"entry {stamp.size}: NTP time {rfc3339_ns(after)} is before {stamp.tsa}'s "
                f"lower bound {rfc3339_ns(stamp.earliest_ns)}"
            )
    return tuple(stamps), tuple(flags)


def _entry_times(path: Path, wanted: set[int]) -> dict[int, int]:
    """Return {index: unix_ns} of the wanted entries of a verified export."""
    times: dict[int, int] = {}
    if not wanted:
        return times
    unpack = _LENGTH.unpack_from
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        pos = index = 0
        for want in sorted(wanted):
            # Only the length prefixes are read on the way: no entry is copied but these.
            while index < want:
                pos += 4 + unpack(buf, pos)[0]
                index += 1
            length = unpack(buf, pos)[0]
            fields = parse_envelope(buf[pos + 4 : pos + 4 + length])
            if fields is not None:
                times[index] = fields[2]
    return times


@dataclass(frozen=True)
class VerifiedBundle:
    """What a verified receipt bundle proved."""

    index: int
    size: int
    entry_raw: bytes
    checkpoint: Checkpoint
    matched_sha256: str | None
    # Per TSA, the interval the bundle's time-stamps put around the entry, and the reasons
    # the entry's NTP time lies outside any of them (docs/ledger-format.md §9).
    intervals: tuple[Interval, ...] = ()
    flags: tuple[str, ...] = ()


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidProof(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidProof(f"{what} is not base64") from None


def _hashes_in(value: Any) -> Iterable[str]:
    if isinstance(value, str) and _SHA256_HEX.fullmatch(value):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _hashes_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hashes_in(item)


def file_sha256(path: str | os.PathLike) -> str:
    """Return the SHA-256 of a file as lowercase hex, reading it in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_bundle(
    bundle: Mapping[str, Any],
    verifier: Verifier | Sequence[Verifier],
    file: str | os.PathLike | None = None,
    witnesses: Sequence[CosignatureVerifier] = (),
    quorum: int = 0,
    trusted_tsas: Sequence = (),
    origin: str | None = None,
) -> VerifiedBundle:
    """Check a receipt bundle: entry, inclusion proof, checkpoint, and optionally a file.

    The checkpoint's origin must be origin, by default the name of the key that signed it.
    With a quorum, at least that many of the witnesses must have cosigned the checkpoint: a
    log that showed its witnesses another history cannot also show this one. The bundle's
    time-stamps are verified (their signers issued by one of trusted_tsas, when given) and
    the interval they put around the entry is returned, with a flag when its NTP time lies
    outside.

    :raises InvalidNote: the checkpoint is not signed by verifier, or lacks the quorum.
    :raises InvalidProof: the proof does not tie the entry to the checkpoint.
    :raises LedgerTampered: the entry is malformed or the file is not in it.
    :raises InvalidTimestamp: a time-stamp token does not verify.
    """
    if bundle.get("format") != BUNDLE_FORMAT:
        raise InvalidProof(f"not a {BUNDLE_FORMAT} bundle")
    checkpoint = open_checkpoint(bundle.get("checkpoint", ""), verifier, origin)
    if quorum > 0:
        check_witnesses(bundle["checkpoint"], witnesses, quorum)
    raw = _b64(bundle.get("entry"), "entry")
    proof = bundle.get("inclusion")
    if not isinstance(proof, Mapping) or not isinstance(proof.get("hashes"), list):
        raise InvalidProof("bundle has no inclusion proof")
    index, size = proof.get("index"), proof.get("size")
    if not isinstance(index, int) or not isinstance(size, int) or size != checkpoint.size:
        raise InvalidProof("inclusion proof is not for the checkpoint's tree size")
    if bundle.get("index") != index or bundle.get("size") != size:
        raise InvalidProof("the bundle's index and size differ from its inclusion proof's")
    try:
        entry = decode_entry(raw)
    except InvalidEntry as exc:
        raise LedgerTampered(index, f"entry does not decode: {exc}") from None
    if entry.index != index:
        raise LedgerTampered(index, f"entry says it is index {entry.index}")
    leaf = leaf_hash(raw)
    if not hmac.compare_digest(_b64(proof.get("leaf_hash"), "leaf_hash"), leaf):
        raise InvalidProof("leaf_hash is not the hash of the entry")
    hashes = [_b64(h, "proof hash") for h in proof["hashes"]]
    verify_inclusion(index, size, leaf, hashes, checkpoint.root)
    matched = None
    if file is not None:
        digest = file_sha256(file)
        if not any(hmac.compare_digest(digest, h) for h in _hashes_in(entry.data)):
            raise LedgerTampered(index, "the file's SHA-256 is not in the entry")
        matched = digest
    intervals: list[Interval] = []
    if "timestamps" in bundle:
        stamps = check_stamps(bundle["timestamps"], verifier, size, checkpoint.root, trusted_tsas)
        intervals = intervals_for(index, stamps)
        if bundle.get("interval", []) not in ([], [interval_json(i) for i in intervals]):
            raise InvalidProof("the bundle's interval is not the one its time-stamps prove")
    elif bundle.get("interval"):
        raise InvalidProof("the bundle states an interval but carries no time-stamps")
    flags = [time_flag(index, entry.time.unix_ns, i) for i in intervals]
    return VerifiedBundle(
        index, size, raw, checkpoint, matched, tuple(intervals), tuple(f for f in flags if f)
    )
