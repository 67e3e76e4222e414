"""Fixtures for the ledger's tests only: a bound SQLite ledger and a signer."""

from __future__ import annotations

import peewee
import pytest

from ledger import note, store
from ledger.clock import ManualClock


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


@pytest.fixture(scope="session")
def signer():
    """Return a fresh log signer."""
    return note.Signer.parse(note.generate_signer_key("coop.test/ledger")[0])
