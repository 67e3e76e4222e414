"""Database binding: SQLite (default) or PostgreSQL by URL, and the one place that locks rows."""

from contextlib import contextmanager

import peewee
from playhouse.db_url import connect

from coop.instance import create_private_file, sqlite_path

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "synchronous": "normal",
}


def open_database(url: str) -> peewee.Database:
    """Return a database object for the URL, with the pragmas SQLite needs for concurrency."""
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        if path is not None:
            # Created here with mode 0600: SQLite would create it from the umask (0644).
            create_private_file(path)
        return connect(url, pragmas=SQLITE_PRAGMAS, timeout=30)
    return connect(url)


def bind(url: str) -> peewee.Database:
    """Point the shared proxy, and the ledger's tables, at the database for the URL."""
    import ledger.store

    db = open_database(url)
    database.initialize(db)
    ledger.store.bind(db)
    return db


def is_sqlite() -> bool:
    return isinstance(database.obj, peewee.SqliteDatabase)


@contextmanager
def write_transaction():
    """Open a transaction that takes the write lock at once.

    On SQLite a deferred transaction that reads and then writes can fail with
    "database is locked" under concurrency; BEGIN IMMEDIATE serialises writers
    up front. PostgreSQL locks rows instead (see `locked`).
    """
    if is_sqlite() and database.transaction_depth() == 0:
        with database.atomic("IMMEDIATE") as txn:
            yield txn
    else:
        with database.atomic() as txn:
            yield txn


def locked(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """Return query with a row lock on PostgreSQL (SQLite's write transaction already locks)."""
    if is_sqlite():
        return query
    return query.for_update()


def init_app(app) -> None:
    """Bind the database for the app and give each request its own connection."""
    bind(app.config["DATABASE_URL"])

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()
