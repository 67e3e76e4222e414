"""Fixtures: the app on SQLite (and on PostgreSQL when COOP_TEST_POSTGRES_URL is set),
clients signed in as each role, and factories for users, tasks and bids."""

import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from datetime import timedelta

import peewee
import pytest
from flask import g
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier

from coop import create_app
from coop.audit.ledger import publish_checkpoint
from coop.auth.passwords import hash_password
from coop.db import close_all, database
from coop.models import MemberStatus, Role, Task, User, utcnow

PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: scrypt is slow on purpose

# The ledger's signing key is written outside the instance folder, by default under the user's
# configuration folder: tests (and the servers they start) keep theirs in a temporary one.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="coop-test-config-")
for _name in ("COOP_LEDGER_KEY", "COOP_LEDGER_KEY_FILE", "COOP_MODE"):
    os.environ.pop(_name, None)
# Entries' time must not depend on whether this host's kernel clock happens to be
# synchronised; tests/ledger/test_ledger_kernel.py reads the real one.
os.environ["COOP_KERNEL_CLOCK"] = "0"

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("COOP_TEST_POSTGRES_URL") else [])
# Apps the tests make themselves publish after every commit too: a throttled publication
# would run after its test, when the database proxy may be another test's.
os.environ.setdefault("COOP_CHECKPOINT_INTERVAL", "0")


class CoopTestClient(FlaskClient):
    """A test client, signed in as `user=` when given, that starts each request afresh.

    The `app` fixture keeps an app context open for the whole test, and Flask reuses it for
    requests, so `g` (where Flask-Login caches the user) would leak from one request to the
    next; each request clears it. The session carries the "_id" that strong session
    protection checks.
    """

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            with self.application.test_request_context(environ_base=self.environ_base):
                identifier = _create_identifier()
            with self.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
                session["_id"] = identifier

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def postgres_url():
    """Create a fresh PostgreSQL database for this run and drop it afterwards."""
    base = os.environ.get("COOP_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("COOP_TEST_POSTGRES_URL is not set")
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    name = f"coop_test_{uuid.uuid4().hex[:12]}"
    admin = peewee.PostgresqlDatabase(
        parts.path.lstrip("/") or "postgres",
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
    )
    admin.connect()
    admin.connection().autocommit = True
    admin.execute_sql(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        database.close() if not database.is_closed() else None
        admin.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _reset_postgres():
    tables = [t for t in database.get_tables() if t != "schema_version"]
    if tables:
        quoted = ", ".join(f'"{t}"' for t in tables)
        database.execute_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'coop.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app(database_url, tmp_path):
    """An app on a fresh database with every migration applied."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "LEDGER_KEY_FILE": str(tmp_path / "keys" / "ledger_key"),
            "UPLOAD_DIR": str(tmp_path / "files"),
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False,
            "NTP_SERVERS": "",
            "KERNEL_CLOCK": False,
            # Every commit publishes at once, so a test reads the checkpoint covering its
            # writes; test_checkpoint_publication.py tests the throttle.
            "CHECKPOINT_INTERVAL": 0,
            # Jobs run in the request that queues them; test_jobs.py runs a real worker.
            "QUEUE_URL": "immediate://",
            "RENDER_PROCESSES": 1,  # no process pool per test; test_jobs.py runs one
        }
    )
    app.test_client_class = CoopTestClient
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        database.connect(reuse_if_open=True)
        if database_url.startswith("postgres"):
            _reset_postgres()
            # As `coop init` does on a new database: readers find a published checkpoint.
            publish_checkpoint()
        yield app
        close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 1_000_000))

    def make(role=Role.CLIENT, **overrides):
        n = next(counter)
        fields = {
            "email": f"{role}{n}@example.test",
            "name": f"{role.title()} {n}",
            "password_hash": PASSWORD_HASH,
            "role": role,
            "member_status": None if role == Role.CLIENT else MemberStatus.ACTIVE,
            "pseudonym": f"w-{uuid.uuid4().hex[:8]}",
        }
        fields.update(overrides)
        return User.create(**fields)

    return make


@pytest.fixture
def make_member(make_user):
    return lambda **kw: make_user(Role.MEMBER, **kw)


@pytest.fixture
def make_client_user(make_user):
    return lambda **kw: make_user(Role.CLIENT, **kw)


@pytest.fixture
def make_board(make_user):
    return lambda **kw: make_user(Role.BOARD, **kw)


@pytest.fixture
def make_task(app, make_client_user):
    """Create an open fixed-price task directly (tests of operations post through them)."""

    def make(client=None, **overrides):
        minutes = overrides.pop("estimated_minutes", 30)
        price = overrides.pop("price_cents", 1000)
        fields = {
            "client": client or make_client_user(),
            "title": "Label 50 photos",
            "description": "Draw boxes around bicycles.",
            "instructions": "Use the attached guide.",
            "category": "image_labelling",
            "estimated_minutes": minutes,
            "deadline": utcnow() + timedelta(days=3),
            "pricing": "fixed",
            "price_cents": price,
            "pay_per_hour_cents": price * 60 // minutes,
        }
        fields.update(overrides)
        return Task.create(**fields)

    return make


@pytest.fixture
def make_delivery(app, make_client_user, make_member, make_task):
    """Claim a new task and deliver a file through the operations (so the ledger has entries)."""
    from coop import files
    from coop.delivery.operations import submit_delivery
    from coop.market.operations import claim_task

    def make(client=None, member=None):
        task = make_task(client or make_client_user())
        member = member or make_member()
        claim_task(member, task.id)
        stored = files.save(io.BytesIO(b"bike,1 2 3 4\n"), "boxes.csv", "text/csv")
        return task, submit_delivery(member, task.id, [stored], "Done")

    return make


@pytest.fixture
def make_timed_delivery(make_delivery):
    """make_delivery with the ledger's clock replaced by clock for its entries only."""
    from coop.audit.ledger import get_ledger

    def make(clock, **kwargs):
        ledger = get_ledger()
        ledger.clock, before = clock, ledger.clock
        try:
            return make_delivery(**kwargs)
        finally:
            ledger.clock = before

    return make


@pytest.fixture
def chronyd(tmp_path):
    """The address of a real chronyd on a loopback port, serving its own clock (-x: it never
    sets this machine's); skips when chronyd is not installed."""
    from ledger.clock import NTPError, Server, query

    if shutil.which("chronyd") is None:
        pytest.skip("chronyd is not installed")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp_path / "chrony.conf"
    conf.write_text(
        f"port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\n"
        f"cmdport 0\nbindcmdaddress /\npidfile {tmp_path}/chronyd.pid\n"
        f"driftfile {tmp_path}/chrony.drift\n"
    )
    proc = subprocess.Popen(
        [shutil.which("chronyd"), "-x", "-U", "-d", "-u", "root", "-f", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                query(Server("127.0.0.1", port), timeout=0.5)
                break
            except NTPError:
                assert time.monotonic() < deadline, "chronyd never answered"
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()


def login_client(app, user):
    """A test client signed in as user (None: anonymous)."""
    return app.test_client(user=user) if user is not None else app.test_client()


@pytest.fixture
def tsa(tmp_path):
    """A real RFC 3161 TSA (openssl ts -reply) on a loopback port: (files, server, url)."""
    from tsa_support import make_tsa, serve_tsa, url_of

    files = make_tsa(tmp_path / "tsa")
    server = serve_tsa(files)
    try:
        yield files, server, url_of(server)
    finally:
        server.shutdown()
        server.server_close()
