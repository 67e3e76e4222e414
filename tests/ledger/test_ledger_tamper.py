"""Any single-byte change to a stored entry, stored hash or checkpoint is caught and located."""

from __future__ import annotations

import peewee
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle, note, store
from ledger.clock import ManualClock
from ledger.store import Ledger
from ledger.verify import LedgerTampered

SIZE = 13
CHECKPOINTS = (5, SIZE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A ledger of SIZE entries with checkpoints at 5 and SIZE, and its verifier."""
    path = tmp_path_factory.mktemp("tamper") / "ledger.db"
    database = peewee.SqliteDatabase(str(path), pragmas={"journal_mode": "wal"})
    store.bind(database)
    store.create_tables()
    ledger = Ledger(ManualClock())
    signer = note.Signer.parse(note.generate_signer_key("coop.test/tamper")[0])
    for i in range(SIZE):
        ledger.append("delivery.submitted", {"delivery": f"d{i}", "sha256": f"{i:064x}"})
        if i + 1 in CHECKPOINTS:
            ledger.checkpoint(signer, "coop.test/tamper")
    assert ledger.verify(signer.verifier) == SIZE
    yield database, ledger, signer.verifier
    database.close()


def _writer_of(stored_index: int) -> int:
    """Return the leaf whose append wrote this stored hash (by counting, not bisection)."""
    n = 0
    while merkle.stored_hash_index(0, n + 1) <= stored_index:
        n += 1
    return n


def test_leaf_for_stored_index_matches_counting():
    for stored in range(merkle.stored_hash_count(300)):
        assert merkle.leaf_for_stored_index(stored) == _writer_of(stored)


TARGETS = st.sampled_from(["entry", "leaf_column", "stored_hash", "checkpoint_root", "note"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target=TARGETS, row=st.integers(0, 10_000), pos=st.integers(0, 10_000), flip=st.integers(1, 255)
)
def test_single_byte_change_is_detected_and_named(built, target, row, pos, flip):
    database, ledger, verifier = built
    if target in ("entry", "leaf_column"):
        index = row % SIZE
        column = "bytes" if target == "entry" else "leaf_hash"
        table, key_column, key = "ledger_entry", "idx", index
        expected = index
    elif target == "stored_hash":
        key = row % merkle.stored_hash_count(SIZE)
        table, column, key_column = "ledger_hash", "hash", "stored_index"
        expected = _writer_of(key)
    else:
        key = CHECKPOINTS[row % len(CHECKPOINTS)]
        table, key_column = "ledger_checkpoint", "size"
        column = "root" if target == "checkpoint_root" else "note"
        expected = key - 1
    sql = f"SELECT {column} FROM {table} WHERE {key_column} = ?"  # noqa: S608
    original = database.execute_sql(sql, [key]).fetchone()[0]
    if isinstance(original, str):
        value = original.encode()
    else:
        value = bytes(original)
    changed = bytearray(value)
    changed[pos % len(changed)] ^= flip
    if isinstance(original, str):
        try:
            new_value = changed.decode()
        except UnicodeDecodeError:
            new_value = changed.decode("latin-1")
    else:
        new_value = bytes(changed)
    update = f"UPDATE {table} SET {column} = ? WHERE {key_column} = ?"  # noqa: S608
    database.execute_sql(update, [new_value, key])
    try:
        with pytest.raises(LedgerTampered) as caught:
            ledger.verify(verifier)
        assert caught.value.index == expected, caught.value.reason
    finally:
        database.execute_sql(update, [original, key])


def test_deleted_and_extra_rows_are_detected(built):
    database, ledger, verifier = built
    row = database.execute_sql("SELECT * FROM ledger_hash WHERE stored_index = 7").fetchone()
    database.execute_sql("DELETE FROM ledger_hash WHERE stored_index = 7")
    try:
        with pytest.raises(LedgerTampered) as caught:
            ledger.verify(verifier)
        assert caught.value.index == _writer_of(7)
    finally:
        database.execute_sql("INSERT INTO ledger_hash VALUES (?, ?)", row)
    ledger.verify(verifier)
