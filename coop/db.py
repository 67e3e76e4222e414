"""Database binding: SQLite (default) or PostgreSQL by URL, and the one place that locks rows."""

import threading
from collections.abc import Callable
from contextlib import contextmanager

import peewee
from flask import request
from playhouse.db_url import connect
from playhouse.pool import PooledDatabase

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


POSTGRES_SCHEMES = ("postgres://", "postgresql://")
WITHOUT_DATABASE = {"static", "ops.healthz"}


def open_database(
    url: str, pool_size: int = 0, statement_timeout_ms: int = 0
) -> peewee.Database:
    """Return a database object for the URL, with the pragmas SQLite needs for concurrency.

    On PostgreSQL, pool_size > 0 keeps up to that many connections per process open between
    requests (opening one costs a few milliseconds and a server process), and a statement that
    runs longer than statement_timeout_ms is cancelled by the server rather than holding a
    worker and its locks.
    """
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        if path is not None:
            # Created here with mode 0600: SQLite would create it from the umask (0644).
            create_private_file(path)
        return connect(url, pragmas=SQLITE_PRAGMAS, timeout=30)
    options = {}
    if url.startswith(POSTGRES_SCHEMES):
        if statement_timeout_ms > 0:
            options["options"] = f"-c statement_timeout={statement_timeout_ms}"
        if pool_size > 0:
            url = "postgresql+pool://" + url.split("://", 1)[1]
            # A connection idle for five minutes is closed rather than reused: the server or a
            # proxy may have dropped it. `timeout`: wait for a free connection, then fail.
            options.update(max_connections=pool_size, stale_timeout=300, timeout=10)
    return connect(url, **options)


def close_all() -> None:
    """Close the pool's idle connections too (before dropping a database, or at exit)."""
    if isinstance(database.obj, PooledDatabase):
        database.obj.close_all()
    elif database.obj is not None and not database.is_closed():
        database.close()


def bind(url: str, pool_size: int = 0, statement_timeout_ms: int = 0) -> peewee.Database:
    """Point the shared proxy, and the ledger's tables, at the database for the URL."""
    import ledger.store

    db = open_database(url, pool_size, statement_timeout_ms)
    # A process binds again only when it builds another app (tests, commands): the previous
    # pool's idle connections would otherwise stay open until garbage collection.
    close_all()
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
    bind(
        app.config["DATABASE_URL"],
        app.config.get("DATABASE_POOL_SIZE", 0),
        app.config.get("STATEMENT_TIMEOUT_MS", 0),
    )

    @app.before_request
    def _connect():
        # Static files and the liveness probe never touch the database: no connection either.
        if request.endpoint not in WITHOUT_DATABASE:
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
