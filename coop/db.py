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
# Connections are pooled: a request takes one and gives it back. Opening one per request cost
# more than the answer it served: on SQLite closing the last connection checkpoints the WAL
# into the database file (20 ms), and a new connection reads the schema again; on PostgreSQL
# each is a new server process. Idle ones close after STALE_SECONDS (the server or a proxy may
# have dropped them).
STALE_SECONDS = 300


def open_database(
    url: str, pool_size: int = 0, statement_timeout_ms: int = 0
) -> peewee.Database:
    """Return a pooled database object for the URL, with the pragmas SQLite needs.

    Each thread at work holds one connection. On PostgreSQL, pool_size > 0 caps how many a
    process opens (a request then waits up to 10 s for a free one; 0: no cap, as many as its
    threads, bounded by the server's max_connections), and a statement that runs longer than
    statement_timeout_ms is cancelled by the server rather than holding a worker and its locks.
    """
    scheme, rest = url.split("://", 1)
    if scheme == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            # Created here with mode 0600: SQLite would create it from the umask (0644).
            create_private_file(path)
        # A pooled connection serves one thread at a time, but not always the one that
        # opened it. busy_timeout (above) is SQLite's wait for the write lock.
        return connect(f"sqlite+pool://{rest}", pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                       stale_timeout=STALE_SECONDS, max_connections=None)
    options = {}
    if url.startswith(POSTGRES_SCHEMES):
        if statement_timeout_ms > 0:
            options["options"] = f"-c statement_timeout={statement_timeout_ms}"
        url = f"postgresql+pool://{rest}"
        options.update(stale_timeout=STALE_SECONDS, max_connections=pool_size or None)
        if pool_size > 0:
            options["timeout"] = 10
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


# SQLite has one writer at a time. Threads of one process that want it wait on this lock,
# woken the moment it is free, instead of in SQLite's busy handler, which sleeps in growing
# steps (up to 100 ms) and retries: with 8 threads answering items, that sleeping was most of
# the answers' latency (bench/projects.py). Other processes (the job worker, `coop tick`)
# still meet at SQLite's own lock.
_SQLITE_WRITER = threading.Lock()


@contextmanager
def _sqlite_writer_turn():
    """Wait for this process's turn to write, at most busy_timeout: past it, go on to SQLite's
    lock, whose own wait then fails as before ("database is locked") rather than hang."""
    held = _SQLITE_WRITER.acquire(timeout=SQLITE_PRAGMAS["busy_timeout"] / 1000)
    try:
        yield
    finally:
        if held:
            _SQLITE_WRITER.release()


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
            with _sqlite_writer_turn(), database.atomic("IMMEDIATE") as txn:
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
