"""Appenders in several processes never fork the chain or repeat an index (SQLite, PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import peewee
import pytest

from ledger import store
from ledger.store import Ledger

PROCESSES = 4
APPENDS = 40


def _database(url: str) -> peewee.Database:
    if url.startswith("postgresql://"):
        parts = urlsplit(url)
        return peewee.PostgresqlDatabase(
            parts.path.lstrip("/"),
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
        )
    return peewee.SqliteDatabase(
        url, pragmas={"journal_mode": "wal", "busy_timeout": 60_000, "synchronous": "normal"}
    )


def _appender(url: str, worker: int) -> None:
    database = _database(url)
    store.bind(database)
    ledger = Ledger()
    for i in range(APPENDS):
        if i % 2:
            ledger.append("task.completed", {"worker": worker, "n": i})
        else:
            # Half the appends join a transaction the "app" opened, as operations do.
            lock = "IMMEDIATE" if isinstance(database, peewee.SqliteDatabase) else None
            with database.atomic(lock) if lock else database.atomic():
                ledger.append("task.completed", {"worker": worker, "n": i})
    database.close()


def _run(url: str) -> None:
    database = _database(url)
    store.bind(database)
    store.create_tables()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_appender, args=(url, w)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store.bind(database)
    ledger = Ledger()
    assert ledger.size() == PROCESSES * APPENDS
    assert ledger.verify() == PROCESSES * APPENDS
    database.close()


def test_concurrent_appenders_on_sqlite(tmp_path):
    _run(str(tmp_path / "ledger.db"))


@pytest.fixture
def postgres_url():
    base = os.environ.get("COOP_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("COOP_TEST_POSTGRES_URL is not set")
    import psycopg2

    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(base)
        yield urlunsplit(parts._replace(path="/" + name))
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def test_concurrent_appenders_on_postgres(postgres_url):
    _run(postgres_url)
