"""Ledger storage with peewee: entries, stored Merkle hashes and published checkpoints.

Tables are bound through ``database_proxy``; the app calls ``bind(database)`` so that an entry
commits in the same transaction as the change that caused it. Appends serialise across
processes: on SQLite the transaction must be ``BEGIN IMMEDIATE`` (``db.atomic('IMMEDIATE')``;
``append`` opens one itself when none is open); on PostgreSQL ``append`` takes a
transaction-scoped advisory lock, which needs READ COMMITTED (PostgreSQL's default) so that
the tip read after the lock sees the last commit. The primary key on the index is the last
line of defence: two appenders that somehow read the same tip cannot both commit.
"""

from __future__ import annotations

import base64
import bisect
import hmac
import os
import struct
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import peewee

from . import merkle
from .entry import GENESIS_PREV, Entry, TimeBlock, encode_entry, parse_envelope
from .note import Signer, Verifier, format_checkpoint, open_checkpoint, sign_note
from .verify import (
    BUNDLE_FORMAT,
    EXPORT_CHECKPOINT,
    EXPORT_ENTRIES,
    ChainChecker,
    LedgerTampered,
)

__all__ = [
    "ADVISORY_LOCK_KEY",
    "TABLES",
    "ConsistencyProof",
    "InclusionProof",
    "Ledger",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerHash",
    "TimeSourceLike",
    "bind",
    "create_tables",
    "database_proxy",
]

# 'coop' in ASCII: one constant every process agrees on for pg_advisory_xact_lock.
ADVISORY_LOCK_KEY = 0x636F6F70
_BATCH = 10_000
# Up to this many stored hashes are read by UNION ALL of point lookups (SQLite allows 500).
_UNION_MAX = 64
_LENGTH = struct.Struct(">I")

database_proxy = peewee.DatabaseProxy()


class _Model(peewee.Model):
    class Meta:
        database = database_proxy


class LedgerEntry(_Model):
    """One entry: its canonical bytes (the truth) and columns derived from them."""

    index = peewee.BigIntegerField(primary_key=True, column_name="idx")
    kind = peewee.CharField(max_length=64)
    body = peewee.BlobField(column_name="bytes")
    leaf_hash = peewee.BlobField()
    unix_ns = peewee.BigIntegerField()

    class Meta:
        table_name = "ledger_entry"


class LedgerHash(_Model):
    """A stored Merkle hash at its Go tlog stored-hash index."""

    stored_index = peewee.BigIntegerField(primary_key=True)
    hash = peewee.BlobField()

    class Meta:
        table_name = "ledger_hash"


class LedgerCheckpoint(_Model):
    """A signed checkpoint we published, one per tree size."""

    size = peewee.BigIntegerField(primary_key=True)
    root = peewee.BlobField()
    note = peewee.TextField()
    created_ns = peewee.BigIntegerField()

    class Meta:
        table_name = "ledger_checkpoint"


TABLES = [LedgerEntry, LedgerHash, LedgerCheckpoint]


def bind(database: peewee.Database) -> None:
    """Bind the ledger's tables to the app's database."""
    database_proxy.initialize(database)


def create_tables() -> None:
    """Create the ledger's tables if they do not exist."""
    database_proxy.create_tables(TABLES, safe=True)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind_of(value: Any) -> str:
    """Name what a column holds, for a person: "text 'abc'", "a blob", "a number"."""
    if isinstance(value, str):
        return f"text {value[:20]!r}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "a blob"
    if value is None:
        return "NULL"
    return f"the number {value!r}"


def _blob(value: Any, index: int, what: str) -> bytes:
    """Return a blob column's bytes, or raise LedgerTampered when it holds something else."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise LedgerTampered(index, f"{what} holds {_kind_of(value)} where a blob belongs")


def _text(value: Any, index: int, what: str) -> str:
    """Return a text column's string, or raise LedgerTampered when it holds something else."""
    if isinstance(value, str):
        return value
    raise LedgerTampered(index, f"{what} holds {_kind_of(value)} where text belongs")


class TimeSourceLike(Protocol):
    """Anything with ``now() -> TimeBlock`` (a ``ledger.clock.Clock``, or a fake in tests)."""

    def now(self) -> TimeBlock: ...


class _UnsyncedClock:
    """System time, said to be unsynchronised (used when the app gives no clock)."""

    def now(self) -> TimeBlock:
        from .clock import UNSYNCED_UNCERTAINTY_NS

        return TimeBlock(time.time_ns(), UNSYNCED_UNCERTAINTY_NS, False, ())


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof of one leaf in a tree of ``size`` leaves."""

    index: int
    size: int
    leaf_hash: bytes
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """Return ``{"index", "size", "leaf_hash", "hashes"}`` with base64 hashes."""
        return {
            "index": self.index,
            "size": self.size,
            "leaf_hash": _b64(self.leaf_hash),
            "hashes": [_b64(h) for h in self.hashes],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 consistency proof between two tree sizes."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """Return ``{"from", "to", "hashes"}`` with base64 hashes."""
        return {
            "from": self.old_size,
            "to": self.new_size,
            "hashes": [_b64(h) for h in self.hashes],
        }


class Ledger:
    """The append-only ledger in the bound database."""

    def __init__(self, clock: TimeSourceLike | None = None, hash_cache_size: int = 1 << 16):
        self.clock = clock or _UnsyncedClock()
        # Stored hashes never change once committed, so proofs may reuse them. Proofs keep
        # only the upper levels, which every proof shares: at a level where a tree of n
        # leaves has n / 2**L hashes, those of levels >= L number under 2n / 2**L, so the
        # lowest level kept is the one where that fits the cache. Only reads outside a
        # transaction fill the cache, so a hash from an append that later rolls back is
        # never remembered.
        self._cache: dict[int, bytes] = {}
        self._cache_db: peewee.Database | None = None
        self._cache_size = hash_cache_size
        # Hashes of the right edge's incomplete subtrees, by (first leaf, tree size): every
        # proof at one size shares one of ~log2(size) of them.
        self._fringes: dict[tuple[int, int], bytes] = {}
        # Per-process memory of the last append, to skip reading the tip (see _append).
        self._tip: tuple | None = None
        self._hash_sql: dict[tuple[int, str], str] = {}

    @property
    def db(self) -> peewee.Database:
        """Return the database the tables are bound to."""
        if database_proxy.obj is None:
            raise RuntimeError("ledger tables are not bound: call ledger.store.bind(database)")
        return database_proxy.obj

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> Any:
        db = self.db
        if db.param != "?":
            sql = sql.replace("?", db.param)
        # The driver's cursor directly, keeping peewee's exception types: an append is five
        # statements, and execute_sql's logging and hook checks add a tenth to its cost.
        with peewee.__exception_wrapper__:
            cursor = db.cursor()
            cursor.execute(sql, params)
        return cursor

    def _is_postgres(self) -> bool:
        return isinstance(self.db, peewee.PostgresqlDatabase)

    def _cache_for(self, db: peewee.Database) -> dict[int, bytes] | None:
        """Return the hash cache to use now, or None when reads must not fill one."""
        if not self._cache_size or db.in_transaction():
            return None
        if self._cache_db is not db:
            # Rebound to another database (tests, tools): nothing remembered applies.
            self._cache, self._fringes, self._cache_db = {}, {}, db
        elif len(self._cache) >= self._cache_size:
            # Only when the tree has grown a lot; the levels kept rise with it.
            self._cache = {}
        return self._cache

    def _read_cached(self, indexes: Sequence[int], keep_from: int = 0, keep_to: int = -1) -> list:
        """Read stored hashes, remembering the committed ones at positions [keep_from, keep_to).

        keep_to -1 means to the end.
        """
        cache = self._cache_for(self.db)
        if cache is None:
            return self._read_hashes(indexes)
        # A local reference: another thread replacing self._cache cannot lose hashes here.
        get = cache.get
        hashes = [get(i) for i in indexes]
        if None in hashes:
            missing = [i for i, h in zip(indexes, hashes, strict=True) if h is None]
            fetched = dict(zip(missing, self._read_hashes(missing), strict=True))
            hashes = [fetched[i] if h is None else h for i, h in zip(indexes, hashes, strict=True)]
            keep = indexes[keep_from:] if keep_to < 0 else indexes[keep_from:keep_to]
            for i in keep:
                if i in fetched:
                    cache[i] = fetched[i]
        return hashes

    def _fringe(self, lo: int, hi: int) -> bytes:
        """Return the hash of the right edge's leaves [lo, hi), remembering committed ones."""
        key = (lo, hi)
        fringes = self._fringes
        h = fringes.get(key)
        if h is None:
            h = merkle.subtree_hash(lo, hi, self._read_cached)
            if self._cache_for(self.db) is not None:
                if len(fringes) >= 256:
                    self._fringes = fringes = {}
                fringes[key] = h
        return h

    def _read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        if not indexes:
            return []
        db = self.db
        key = (len(indexes), db.param)
        sql = self._hash_sql.get(key)
        if sql is None:
            # Point lookups joined by UNION ALL cost a quarter less than one IN (...) list on
            # SQLite, which first builds a temporary index of the list. Only placeholders
            # are interpolated; the values travel as parameters.
            one = f"SELECT stored_index, hash FROM ledger_hash WHERE stored_index = {db.param}"  # noqa: S608
            if len(indexes) <= _UNION_MAX:
                sql = " UNION ALL ".join([one] * len(indexes))
            else:
                marks = ",".join([db.param] * len(indexes))
                sql = f"SELECT stored_index, hash FROM ledger_hash WHERE stored_index IN ({marks})"  # noqa: S608
            self._hash_sql[key] = sql
        # The driver's cursor directly: proofs are one such query each, and peewee's
        # execute_sql costs as much again in Python.
        with peewee.__exception_wrapper__:
            cursor = db.cursor()
            cursor.execute(sql, indexes)
            rows = cursor.fetchall()
        # UNION ALL yields its parts in order in practice; the check keeps us right if not.
        if [r[0] for r in rows] == list(indexes):
            return [bytes(h) for _, h in rows]
        found = {i: bytes(h) for i, h in rows}
        try:
            return [found[i] for i in indexes]
        except KeyError as exc:
            missing = exc.args[0]
            leaf = merkle.leaf_for_stored_index(missing)
            raise LedgerTampered(leaf, f"stored hash {missing} is missing") from None

    def append(self, kind: str, data: Mapping[str, Any]) -> Entry:
        """Append an entry inside the caller's transaction (or a new one) and return it."""
        ctx = nullcontext() if self.db.in_transaction() else self._write_transaction()
        with ctx:
            return self._append(kind, data)

    def _write_transaction(self):
        # A deferred SQLite transaction that reads and then writes fails with SQLITE_BUSY when
        # another process wrote in between; IMMEDIATE takes the write lock up front instead.
        return self.db.atomic() if self._is_postgres() else self.db.atomic("IMMEDIATE")

    def _append(self, kind: str, data: Mapping[str, Any]) -> Entry:
        if self._is_postgres():
            self._sql("SELECT pg_advisory_xact_lock(?)", [ADVISORY_LOCK_KEY])
        tip = self._sql(
            "SELECT idx, leaf_hash, unix_ns FROM ledger_entry ORDER BY idx DESC LIMIT 1"
        ).fetchone()
        if tip is None:
            index, prev, last_ns = 0, GENESIS_PREV, 0
        else:
            index, prev, last_ns = tip[0] + 1, bytes(tip[1]), tip[2]
        stamp = self.clock.now()
        if stamp.unix_ns < last_ns:
            # Never let time run backwards along the chain; widen the uncertainty by the
            # clamp so the recorded interval still contains what the clock said.
            stamp = replace(
                stamp,
                unix_ns=last_ns,
                uncertainty_ns=stamp.uncertainty_ns + (last_ns - stamp.unix_ns),
            )
        entry = encode_entry(index, kind, prev, stamp, data)
        leaf = merkle.leaf_hash(entry.raw)
        db = self.db
        cached = self._tip
        if cached is not None and cached[0] is db and cached[1] == index and cached[2] == prev:
            # The tip read above is this process's last append: its leaf hash commits to
            # the whole history, so the right edge remembered with it is still the truth.
            frontier = list(cached[3])
        else:
            frontier = self._read_frontier(index)
        hashes = [leaf]
        h, level = leaf, 0
        while frontier and frontier[-1][0] == level:
            h = merkle.node_hash(frontier.pop()[1], h)
            level += 1
            hashes.append(h)
        frontier.append((level, h))
        # Remembered before commit: if the transaction rolls back, the next tip read differs
        # from it and the right edge is read again.
        self._tip = (db, index + 1, leaf, tuple(frontier))
        self._sql(
            "INSERT INTO ledger_entry (idx, kind, bytes, leaf_hash, unix_ns) VALUES (?,?,?,?,?)",
            [index, kind, entry.raw, leaf, stamp.unix_ns],
        )
        first = merkle.stored_hash_index(0, index)
        marks = ",".join(["(?,?)"] * len(hashes))
        params: list[Any] = []
        for i, h in enumerate(hashes):
            params += [first + i, h]
        # Only placeholders are interpolated; the values travel as parameters.
        self._sql(f"INSERT INTO ledger_hash (stored_index, hash) VALUES {marks}", params)  # noqa: S608
        return entry

    def _read_frontier(self, size: int) -> list[tuple[int, bytes]]:
        """Return (level, hash) of the complete subtrees covering the first size leaves."""
        levels, indexes, start = [], [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                levels.append(level)
                indexes.append(merkle.stored_hash_index(level, start >> level))
                start += 1 << level
        return list(zip(levels, self._read_hashes(indexes), strict=True))

    def size(self) -> int:
        """Return the number of entries."""
        row = self._sql("SELECT MAX(idx) FROM ledger_entry").fetchone()
        return 0 if row[0] is None else row[0] + 1

    def root(self, size: int | None = None) -> bytes:
        """Return the tree root at size (default: now), reading O(log n) stored hashes."""
        size = self.size() if size is None else size
        return merkle.tree_hash(size, self._read_cached)

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """Return the inclusion proof of entry index in the tree of size."""
        size = self.size() if size is None else size
        indexes, levels, fringe_at, fringe_lo = merkle.inclusion_plan(index, size)
        # Fetch the leaf hash in the same query: one round trip per proof at most.
        n = len(indexes)
        indexes.append(merkle.stored_hash_index(0, index))
        lowest_kept = (2 * size // max(self._cache_size, 1)).bit_length()
        hashes = self._read_cached(indexes, bisect.bisect_left(levels, lowest_kept), n)
        leaf = hashes.pop()
        if fringe_at >= 0:
            hashes.insert(fringe_at, self._fringe(fringe_lo, size))
        return InclusionProof(index, size, leaf, tuple(hashes))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Return the consistency proof from old_size to new_size."""
        new_size = self.size() if new_size is None else new_size
        if new_size > self.size():
            raise ValueError(f"the ledger has fewer than {new_size} entries")
        hashes = merkle.consistency_proof(old_size, new_size, self._read_cached)
        return ConsistencyProof(old_size, new_size, tuple(hashes))

    def entry_bytes(self, index: int) -> bytes:
        """Return the stored bytes of entry index."""
        row = self._sql("SELECT bytes FROM ledger_entry WHERE idx = ?", [index]).fetchone()
        if row is None:
            raise IndexError(f"no ledger entry {index}")
        return bytes(row[0])

    def entries_at(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored bytes of the entries at increasing indexes, in one query."""
        if not indexes:
            return []
        first, last = indexes[0], indexes[-1]
        if last - first < 2 * len(indexes):
            # Dense (results of a busy project): one range scan beats a long IN list.
            rows = self._sql(
                "SELECT idx, bytes FROM ledger_entry WHERE idx >= ? AND idx <= ? ORDER BY idx",
                [first, last],
            ).fetchall()
        else:
            marks = ",".join("?" * len(indexes))
            # Only placeholders are interpolated; the values travel as parameters.
            rows = self._sql(
                f"SELECT idx, bytes FROM ledger_entry WHERE idx IN ({marks}) ORDER BY idx",  # noqa: S608
                list(indexes),
            ).fetchall()
        found = {i: raw for i, raw in rows}
        try:
            return [bytes(found[i]) for i in indexes]
        except KeyError as exc:
            raise IndexError(f"no ledger entry {exc.args[0]}") from None

    def stored_hashes(self, stored_indexes: Sequence[int]) -> list[bytes]:
        """Return the stored Merkle hashes at these stored-hash indexes, in one query.

        Bulk reads for large proofs: they bypass the proof cache, which they would only churn.
        """
        return self._read_hashes(stored_indexes)

    def iter_entries(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """Yield stored entry bytes in index order, in batches."""
        stop = self.size() if stop is None else stop
        while start < stop:
            end = min(start + _BATCH, stop)
            rows = self._sql(
                "SELECT bytes FROM ledger_entry WHERE idx >= ? AND idx < ? ORDER BY idx",
                [start, end],
            ).fetchall()
            for (raw,) in rows:
                yield bytes(raw)
            if len(rows) != end - start:
                raise LedgerTampered(start + len(rows), "entry is missing")
            start = end

    def latest_checkpoint(self) -> str | None:
        """Return the note of the largest published checkpoint, if any."""
        row = self._sql("SELECT note FROM ledger_checkpoint ORDER BY size DESC LIMIT 1").fetchone()
        return None if row is None else row[0]

    def checkpoint(self, signer: Signer, origin: str) -> str:
        """Publish a checkpoint of every committed entry unless one is stored; return the latest.

        Runs in its own write transaction (or the caller's) holding the append lock, so
        concurrent publishers serialise: the second finds the first one's row and signs
        nothing. The insert ignores a conflicting row all the same, as the last line of
        defence. Call it after the appends it should cover have committed, never from a read.
        """
        own = not self.db.in_transaction()
        with self._write_transaction() if own else nullcontext():
            if self._is_postgres():
                if own:
                    # A checkpoint is derived from committed entries: if a crash loses it, the
                    # next publication signs the same bytes again (Ed25519 is deterministic),
                    # so its commit need not wait for the disk flush (about a third of its cost).
                    self._sql("SET LOCAL synchronous_commit TO OFF")
                self._sql("SELECT pg_advisory_xact_lock(?)", [ADVISORY_LOCK_KEY])
            size = self.size()
            latest = self._sql(
                "SELECT size, note FROM ledger_checkpoint ORDER BY size DESC LIMIT 1"
            ).fetchone()
            if latest is not None and latest[0] >= size and latest[1].startswith(origin + "\n"):
                return latest[1]
            root = self.root(size)
            note = sign_note(format_checkpoint(origin, size, root), signer)
            if latest is None or size > latest[0]:
                self._sql(
                    "INSERT INTO ledger_checkpoint (size, root, note, created_ns) "
                    "VALUES (?,?,?,?) ON CONFLICT (size) DO NOTHING",
                    [size, root, note, time.time_ns()],
                )
            return note

    def add_checkpoint_signature(self, signer: Signer) -> str:
        """Add signer's signature to the latest checkpoint's note; return the note.

        A key rotation's handover: the same checkpoint, signed by the old key and the new,
        tells a client holding the old key which new key continues the log.
        """
        with self._write_transaction() if not self.db.in_transaction() else nullcontext():
            row = self._sql(
                "SELECT size, note FROM ledger_checkpoint ORDER BY size DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise LookupError("no checkpoint published yet")
            size, note = row
            body = note[: note.index("\n\n") + 1]
            line = sign_note(body, signer)[len(body) + 1 :]
            if line not in note:
                note += line
                self._sql("UPDATE ledger_checkpoint SET note = ? WHERE size = ?", [note, size])
            return note

    def bundle(
        self,
        index: int,
        signer: Signer | None = None,
        origin: str | None = None,
        checkpoint: str | None = None,
        verifier: Verifier | None = None,
    ) -> dict[str, Any]:
        """Return a receipt bundle proving entry index is in a signed checkpoint.

        Uses the given checkpoint note, else a fresh one from signer and origin, else the
        latest published checkpoint.
        """
        if checkpoint is None and signer is not None:
            if origin is None:
                raise ValueError("signing a checkpoint needs the log's origin")
            checkpoint = self.checkpoint(signer, origin)
        if checkpoint is None:
            checkpoint = self.latest_checkpoint()
        if checkpoint is None:
            raise LookupError("no checkpoint published yet")
        if verifier is None and signer is not None:
            verifier = signer.verifier
        size = int(checkpoint.split("\n", 2)[1])
        if not 0 <= index < size:
            raise IndexError(f"entry {index} is not covered by the checkpoint of size {size}")
        proof = self.inclusion_proof(index, size)
        bundle: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "index": index,
            "size": size,
            "entry": _b64(self.entry_bytes(index)),
            "inclusion": proof.to_json(),
            "checkpoint": checkpoint,
        }
        if verifier is not None:
            bundle["verifier_key"] = str(verifier)
        return bundle

    def export(
        self, folder: str | os.PathLike, signer: Signer | None = None, origin: str | None = None
    ) -> int:
        """Write entries.bin and checkpoint to folder; return the number of entries.

        With a signer, exports the whole ledger under a fresh checkpoint; without, exports
        exactly the entries covered by the latest published checkpoint.
        """
        if signer is not None:
            if origin is None:
                raise ValueError("signing a checkpoint needs the log's origin")
            note = self.checkpoint(signer, origin)
        else:
            note = self.latest_checkpoint()
            if note is None:
                raise LookupError("no checkpoint published yet")
        size = int(note.split("\n", 2)[1])
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / EXPORT_ENTRIES, "wb") as f:
            for raw in self.iter_entries(0, size):
                f.write(_LENGTH.pack(len(raw)))
                f.write(raw)
        (folder / EXPORT_CHECKPOINT).write_text(note, encoding="utf-8")
        return size

    def verify(self, verifier: Verifier | Sequence[Verifier] | None = None) -> int:
        """Recompute the chain, leaves, stored hashes and checkpoint roots; return the size.

        verifier: the log's key, or all its keys (a rotated log's checkpoints carry either).

        :raises LedgerTampered: naming the first bad index.
        """
        checkpoints = {}
        for size, root, note in self._sql("SELECT size, root, note FROM ledger_checkpoint"):
            # size is the primary key, an integer on both backends (SQLite's rowid).
            where = max(size - 1, 0)
            checkpoints[size] = (
                _blob(root, where, f"root of the checkpoint of size {size}"),
                _text(note, where, f"note of the checkpoint of size {size}"),
            )
        size = self.size()
        checker = ChainChecker()
        expected_index = 0
        hash_rows = self._iter_hashes()
        self._check_checkpoint(checkpoints, 0, checker, verifier)
        for start in range(0, size, _BATCH):
            rows = self._sql(
                "SELECT idx, kind, bytes, leaf_hash, unix_ns FROM ledger_entry "
                "WHERE idx >= ? AND idx < ? ORDER BY idx",
                [start, start + _BATCH],
            ).fetchall()
            for index, kind, raw, leaf, unix_ns in rows:
                if index != expected_index:
                    raise LedgerTampered(expected_index, "entry is missing")
                # A row edited by hand (the sqlite3 shell stores any type in any column) is
                # tampering to report at its index, not a crash.
                raw = _blob(raw, index, "bytes column")
                leaf = _blob(leaf, index, "leaf_hash column")
                kind = _text(kind, index, "kind column")
                if not _is_int(unix_ns):
                    raise LedgerTampered(
                        index, f"unix_ns column holds {_kind_of(unix_ns)} where an integer belongs"
                    )
                written = checker.add(raw)
                fields = parse_envelope(raw)
                if not hmac.compare_digest(written[0], leaf):
                    raise LedgerTampered(index, "leaf_hash column does not match the bytes")
                marker = b',"kind":"' + kind.encode() + b'","prev":"'
                if fields is None or unix_ns != fields[2] or marker not in raw:
                    raise LedgerTampered(index, "kind or unix_ns column does not match the bytes")
                first = merkle.stored_hash_index(0, index)
                for i, h in enumerate(written):
                    stored = next(hash_rows, None)
                    if stored is None or stored[0] != first + i:
                        raise LedgerTampered(index, f"stored hash {first + i} is missing")
                    if not hmac.compare_digest(stored[1], h):
                        raise LedgerTampered(index, f"stored hash {first + i} is wrong")
                expected_index += 1
                self._check_checkpoint(checkpoints, expected_index, checker, verifier)
        if expected_index != size:
            raise LedgerTampered(expected_index, "entry is missing")
        extra = next(hash_rows, None)
        if extra is not None:
            raise LedgerTampered(size - 1, f"unexpected stored hash {extra[0]}")
        if checkpoints:
            bad = min(checkpoints)
            raise LedgerTampered(bad - 1, f"checkpoint of size {bad} is beyond the ledger")
        return size

    def _iter_hashes(self) -> Iterator[tuple[int, bytes]]:
        start = 0
        while True:
            rows = self._sql(
                "SELECT stored_index, hash FROM ledger_hash WHERE stored_index >= ? "
                "ORDER BY stored_index LIMIT ?",
                [start, _BATCH * 2],
            ).fetchall()
            if not rows:
                return
            for i, h in rows:
                if not _is_int(i):
                    raise LedgerTampered(0, f"a stored_index holds {_kind_of(i)}")
                yield i, _blob(h, merkle.leaf_for_stored_index(i), f"stored hash {i}")
            start = rows[-1][0] + 1

    @staticmethod
    def _check_checkpoint(
        checkpoints: dict[int, tuple[bytes, str]],
        size: int,
        checker: ChainChecker,
        verifier: Verifier | Sequence[Verifier] | None,
    ) -> None:
        if size not in checkpoints:
            return
        root, note = checkpoints.pop(size)
        index = max(size - 1, 0)
        if not hmac.compare_digest(root, checker.root()):
            raise LedgerTampered(index, f"checkpoint of size {size} has the wrong root")
        body = note.split("\n\n", 1)[0] + "\n"
        try:
            expected = format_checkpoint(body.split("\n", 1)[0], size, root)
        except ValueError:  # no usable origin line: edited
            expected = None
        if body != expected:
            raise LedgerTampered(index, f"checkpoint note of size {size} does not match")
        if verifier is not None:
            try:
                open_checkpoint(note, verifier)
            except ValueError as exc:
                raise LedgerTampered(index, f"checkpoint of size {size}: {exc}") from None
