"""Database binding: SQLite (default) or PostgreSQL by URL, and the one place that locks rows."""

import threading
from collections.abc import Callable
from contextlib import contextmanager

import peewee
from playhouse.db_url import connect

from coop.instance import create_private_file, sqlite_path

database = peewee.DatabaseProxy()
# Callbacks waiting for the outermost transaction to commit, per thread (as connections are).
_pending = threading.local()

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
    up front. PostgreSQL locks rows instead (see `locked`). When the outermost one
    commits, the callbacks queued with `after_commit` run.
    """
    outermost = database.transaction_depth() == 0
    try:
        if is_sqlite() and outermost:
            with database.atomic("IMMEDIATE") as txn:
                yield txn
        else:
            with database.atomic() as txn:
                yield txn
    except BaseException:
        if outermost:
            discard_after_commit()
        raise
    if outermost:
        run_after_commit()


def after_commit(callback: Callable[[], None]) -> None:
    """Run callback once the outermost write transaction commits (once, however often queued)."""
    callbacks = _pending.__dict__.setdefault("callbacks", [])
    if callback not in callbacks:
        callbacks.append(callback)


def run_after_commit() -> None:
    """Run and forget the callbacks queued by work that has now committed."""
    while callbacks := _pending.__dict__.pop("callbacks", None):
        for callback in callbacks:
            callback()


def discard_after_commit() -> None:
    """Forget the queued callbacks: the work that queued them rolled back."""
    _pending.__dict__.pop("callbacks", None)


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
        # Work committed outside write_transaction() still gets its callbacks, once the view
        # is done; a failed request's are dropped with its rolled-back work.
        if exc is None and not database.is_closed() and not database.in_transaction():
            run_after_commit()
        else:
            discard_after_commit()
        if not database.is_closed():
            database.close()
