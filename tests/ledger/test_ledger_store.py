"""The store appends in the caller's transaction, serves O(log n) proofs and detects tampering."""

from __future__ import annotations

import base64
import hashlib

import peewee
import pytest

from ledger import merkle, note, store
from ledger.clock import ManualClock
from ledger.entry import decode_entry
from ledger.verify import LedgerTampered, verify_bundle, verify_export


# Fixtures live here, not in a tests/ledger/conftest.py: pytest drops the previous module
# named "conftest" from sys.modules when it imports another, which breaks app tests that
# do `from conftest import ...`.
@pytest.fixture
def db(tmp_path):
    """Return a WAL SQLite file database with the ledger's tables bound and created."""
    database = peewee.SqliteDatabase(
        str(tmp_path / "ledger.db"), pragmas={"journal_mode": "wal", "busy_timeout": 10_000}
    )
    store.bind(database)
    store.create_tables()
    yield database
    database.close()


@pytest.fixture
def ledger(db):
    """Return a Ledger on the db fixture whose clock steps 1 µs per entry."""
    return store.Ledger(ManualClock())


@pytest.fixture(scope="module")
def signer():
    """Return a fresh log signer."""
    return note.Signer.parse(note.generate_signer_key("coop.test/ledger")[0])


def test_append_links_entries_and_grows_the_tree(ledger):
    entries = [ledger.append("task.completed", {"task": f"t{i}", "cents": i}) for i in range(20)]
    assert ledger.size() == 20
    assert entries[0].prev == bytes(32)
    for a, b in zip(entries, entries[1:], strict=False):
        assert b.prev == a.leaf_hash
        assert b.time.unix_ns >= a.time.unix_ns
    leaves = [e.leaf_hash for e in entries]
    assert ledger.root() == merkle.root_from_leaf_hashes(leaves)
    for n in (1, 7, 16, 20):
        root = merkle.root_from_leaf_hashes(leaves[:n])
        assert ledger.root(n) == root
        for i in range(n):
            proof = ledger.inclusion_proof(i, n)
            merkle.verify_inclusion(i, n, leaves[i], proof.hashes, root)
    for m in range(1, 21):
        proof = ledger.consistency_proof(m, 20)
        merkle.verify_consistency(m, 20, ledger.root(m), ledger.root(), proof.hashes)
    assert decode_entry(ledger.entry_bytes(3)) == entries[3]
    assert ledger.verify() == 20


def test_append_joins_the_callers_transaction_and_rollback_leaves_no_trace(db, ledger):
    ledger.append("task.completed", {"task": "t0"})
    before = (ledger.size(), ledger.root(), store.LedgerHash.select().count())
    with pytest.raises(RuntimeError), db.atomic("IMMEDIATE"):
        ledger.append("task.completed", {"task": "t1"})
        ledger.append("task.completed", {"task": "t2"})
        raise RuntimeError("the business change failed")
    assert (ledger.size(), ledger.root(), store.LedgerHash.select().count()) == before
    ledger.append("task.completed", {"task": "t3"})
    assert ledger.verify() == 2


def test_timestamps_never_decrease_and_the_clamp_widens_uncertainty(ledger):
    first = ledger.append("task.completed", {"task": "t0"})
    ledger.clock.unix_ns -= 10_000_000
    second = ledger.append("task.completed", {"task": "t1"})
    assert second.time.unix_ns == first.time.unix_ns
    assert second.time.uncertainty_ns > 5_000_000 + 9_000_000


def test_checkpoint_bundle_and_export_verify_offline(ledger, signer, tmp_path):
    for i in range(11):
        ledger.append("delivery.submitted", {"delivery": f"d{i}", "sha256": f"{i:064x}"})
    cp = ledger.checkpoint(signer, "coop.test/ledger")
    assert cp == ledger.checkpoint(signer, "coop.test/ledger")
    opened = note.open_checkpoint(cp, signer.verifier, "coop.test/ledger")
    assert (opened.size, opened.root) == (11, ledger.root())
    bundle = ledger.bundle(4, checkpoint=cp)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"hello")
    bundle_entry = base64.b64decode(bundle["entry"])
    assert bundle_entry == ledger.entry_bytes(4)
    verify_bundle(bundle, signer.verifier)
    ledger.append(
        "delivery.submitted", {"delivery": "dx", "sha256": hashlib.sha256(b"hello").hexdigest()}
    )
    fresh = ledger.bundle(11, signer=signer, origin="coop.test/ledger")
    assert verify_bundle(fresh, signer.verifier, upload).matched_sha256
    with pytest.raises(LedgerTampered):
        verify_bundle(bundle, signer.verifier, upload)
    assert ledger.export(tmp_path / "export") == 12
    assert verify_export(tmp_path / "export", signer.verifier).size == 12
    assert ledger.verify(signer.verifier) == 12


def test_proofs_with_a_tiny_hash_cache_match_uncached(db):
    small = store.Ledger(ManualClock(), hash_cache_size=5)
    none = store.Ledger(ManualClock(), hash_cache_size=0)
    for i in range(50):
        small.append("task.completed", {"task": f"t{i}"})
    for n in (17, 50):
        for i in range(n):
            assert small.inclusion_proof(i, n) == none.inclusion_proof(i, n)
        assert small.root(n) == none.root(n)


def test_rebinding_to_another_database_forgets_cached_hashes(tmp_path):
    ledger = store.Ledger(ManualClock())
    roots = []
    for name in ("one", "two"):
        database = peewee.SqliteDatabase(str(tmp_path / f"{name}.db"))
        store.bind(database)
        store.create_tables()
        for i in range(5):
            ledger.append("task.completed", {"task": f"{name}{i}"})
        roots.append(ledger.root())
        assert ledger.inclusion_proof(3, 5).leaf_hash == merkle.leaf_hash(ledger.entry_bytes(3))
        database.close()
    assert roots[0] != roots[1]


def test_two_appenders_take_turns_and_each_rereads_the_right_edge_it_missed(db):
    one, two = store.Ledger(ManualClock()), store.Ledger(ManualClock())
    entries = []
    for i in range(40):
        # Runs of different lengths, so each appender's remembered right edge goes stale.
        appender = one if i % 7 < 4 else two
        entries.append(appender.append("task.completed", {"task": f"t{i}"}))
    with pytest.raises(RuntimeError), db.atomic("IMMEDIATE"):
        one.append("task.completed", {"task": "rolled-back"})
        raise RuntimeError("the business change failed")
    # `two` appends the index `one` remembers, then `one` must not trust its memory.
    entries.append(two.append("task.completed", {"task": "t40"}))
    entries.append(one.append("task.completed", {"task": "t41"}))
    leaves = [e.leaf_hash for e in entries]
    assert [e.index for e in entries] == list(range(42))
    assert one.root() == two.root() == merkle.root_from_leaf_hashes(leaves)
    assert one.verify() == 42


def test_proofs_stay_right_while_the_tree_outgrows_the_hash_cache(db):
    small = store.Ledger(ManualClock(), hash_cache_size=16)
    none = store.Ledger(ManualClock(), hash_cache_size=0)
    for i in range(70):
        small.append("task.completed", {"task": f"t{i}"})
        if i % 9 == 0:
            n = i + 1
            for j in range(n):
                assert small.inclusion_proof(j, n) == none.inclusion_proof(j, n)
    assert len(small._cache) <= 16
