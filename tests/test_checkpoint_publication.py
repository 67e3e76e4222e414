"""Checkpoints are published on the write side and only read by GETs: a GET never changes the
checkpoint table, reads stay error-free while another process appends (eight reader processes,
on SQLite and PostgreSQL), an entry newer than the latest checkpoint is said to be not yet
covered (page) or refused with a 503 (bundle), `coop tick` publishes what a killed process
left unpublished, and publication is throttled: commits within COOP_CHECKPOINT_INTERVAL of a
publication share one, made at the interval's end (and before a process exits)."""

import multiprocessing
import time

import pytest

from coop.audit import events
from coop.audit.ledger import get_ledger, pending_publication
from coop.auth.tokens import create_token
from coop.db import database, is_sqlite, write_transaction
from ledger.store import LedgerCheckpoint

READERS = 8
APPENDS = 60
# Keys of app.config a child process needs to build the same app on the same database.
_CHILD_CONFIG = (
    "TESTING",
    "SECRET_KEY",
    "DATABASE_URL",
    "INSTANCE_DIR",
    "LEDGER_KEY_FILE",
    "UPLOAD_DIR",
    "WTF_CSRF_ENABLED",
    "SESSION_COOKIE_SECURE",
    "RATELIMIT_ENABLED",
    "NTP_SERVERS",
)


@pytest.fixture
def delivered(make_delivery):
    task, delivery = make_delivery()
    return task.client, task, delivery


def _checkpoints() -> list[tuple[int, str]]:
    return [(c.size, c.note) for c in LedgerCheckpoint.select().order_by(LedgerCheckpoint.size)]


def _append_unpublished(n: int = 1) -> None:
    """Append entries as a process killed between its commit and its publication leaves them."""
    for i in range(n):
        with database.atomic("IMMEDIATE") if is_sqlite() else database.atomic():
            get_ledger().append("test.appended", {"n": i, "subject": "test:unpublished"})


def test_writes_publish_a_checkpoint_covering_them(app, delivered):
    size = get_ledger().size()
    assert _checkpoints()[-1][0] == size


def test_gets_leave_the_checkpoint_table_unchanged(app, delivered):
    owner, task, delivery = delivered
    _append_unpublished(2)
    before = _checkpoints()
    _row, token = create_token(owner, "audit")
    reader = app.test_client(user=owner)
    for url in (
        "/ledger",
        "/ledger/checkpoint",
        f"/tasks/{task.id}",
        f"/deliveries/{delivery.id}/bundle.json",
        "/ledger/proof/consistency?from=1&to=2",
    ):
        assert reader.get(url).status_code == 200, url
    api = app.test_client().get(
        f"/api/v1/deliveries/{delivery.id}/bundle", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200
    assert _checkpoints() == before
    note = reader.get("/ledger/checkpoint").get_data(as_text=True)
    assert int(note.split("\n")[1]) == before[-1][0] < get_ledger().size()


def test_an_entry_newer_than_the_checkpoint_is_not_yet_covered(app, delivered):
    owner, task, delivery = delivered
    # Its publications are lost, as if each process had died right after its commit.
    newest = _checkpoints()[-1][0]
    LedgerCheckpoint.delete().where(LedgerCheckpoint.size > 0).execute()
    assert newest == get_ledger().size()
    reader = app.test_client(user=owner)
    page = reader.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "not yet covered by a checkpoint" in page
    bundle = reader.get(f"/deliveries/{delivery.id}/bundle.json")
    assert bundle.status_code == 503
    assert "not yet covered by a published checkpoint" in bundle.get_data(as_text=True)
    _row, token = create_token(owner, "audit")
    api = app.test_client().get(
        f"/api/v1/deliveries/{delivery.id}/bundle", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 503 and "not yet covered" in api.get_json()["error"]
    assert _checkpoints()[-1][0] == 0

    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert f"Latest ledger checkpoint: size {newest}." in result.output
    assert reader.get(f"/deliveries/{delivery.id}/bundle.json").status_code == 200
    assert "Inclusion in the latest checkpoint" in reader.get(f"/tasks/{task.id}").get_data(
        as_text=True
    )


def test_ledger_checkpoint_command_publishes_and_prints(app, delivered):
    _append_unpublished()
    result = app.test_cli_runner().invoke(args=["ledger", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert int(result.output.split("\n")[1]) == get_ledger().size() == _checkpoints()[-1][0]


# -- the throttle -----------------------------------------------------------------------------


def _record(n: int) -> None:
    for i in range(n):
        with write_transaction():
            events.record("test.appended", f"test:{i}", n=i)


def _published_just_now(app, interval: float) -> None:
    app.config["CHECKPOINT_INTERVAL"] = interval
    app.extensions["coop_ledger"]["published_at"] = time.monotonic()


def test_after_a_quiet_spell_a_commit_publishes_at_once(app, delivered):
    app.config["CHECKPOINT_INTERVAL"] = 60
    app.extensions["coop_ledger"]["published_at"] = float("-inf")
    _record(1)
    assert _checkpoints()[-1][0] == get_ledger().size()
    assert pending_publication() is None
    _record(1)  # within the interval of that publication: left to the one at its end
    assert _checkpoints()[-1][0] == get_ledger().size() - 1
    timer = pending_publication()
    assert timer is not None
    timer.cancel()


def test_commits_within_the_interval_share_one_publication(app, delivered):
    _published_just_now(app, 60)
    before = _checkpoints()
    _record(3)
    timer = pending_publication()
    assert timer is not None and _checkpoints() == before
    timer.cancel()
    timer.function(*timer.args)  # what the timer does at the interval's end
    assert pending_publication() is None
    assert _checkpoints()[-1][0] == get_ledger().size()
    assert len(_checkpoints()) == len(before) + 1


def test_the_pending_publication_comes_by_itself(app, delivered):
    _published_just_now(app, 0.2)
    _record(2)
    timer = pending_publication()
    assert timer is not None
    timer.join(30)
    assert not timer.is_alive() and pending_publication() is None
    assert _checkpoints()[-1][0] == get_ledger().size()
    bundle = app.test_client(user=delivered[0]).get(f"/deliveries/{delivered[2].id}/bundle.json")
    assert bundle.status_code == 200


# -- eight readers, one appender, separate processes ------------------------------------------


def _child_app(config):
    from coop import create_app

    app = create_app(config)
    from conftest import CoopTestClient

    app.test_client_class = CoopTestClient
    return app


def _reader(config, owner_id, urls, done, failures):
    from coop.models import User

    app = _child_app(config)
    with app.app_context():
        database.connect(reuse_if_open=True)
        owner = User.get_by_id(owner_id)
        client = app.test_client(user=owner)
        bad, reads = [], 0
        while not done.is_set() or reads < 3 * len(urls):
            for url in urls:
                try:
                    status = client.get(url).status_code
                except Exception as error:  # the outcome under test, reported to the parent
                    status = repr(error)
                reads += 1
                if status != 200:
                    bad.append((url, status))
        failures.put((reads, bad))


def _appender(config, ready, done):
    # With the default interval the appends are throttled, and the process publishes the last
    # of them before it exits.
    app = _child_app(config)
    with app.app_context():
        database.connect(reuse_if_open=True)
        ready.wait(120)
        try:
            for i in range(APPENDS):
                # As an operation does: the change's entry in its transaction, published after.
                with write_transaction():
                    events.record("test.appended", f"test:{i}", n=i)
                time.sleep(0.005)
        finally:
            done.set()


def test_eight_readers_and_an_appender_see_no_error(app, delivered):
    owner, task, delivery = delivered
    config = {key: app.config[key] for key in _CHILD_CONFIG}
    config["CHECKPOINT_INTERVAL"] = 1.0  # the default: the appender's commits are throttled
    urls = ["/ledger/checkpoint", "/ledger", f"/tasks/{task.id}",
            f"/deliveries/{delivery.id}/bundle.json"]
    database.close()
    ctx = multiprocessing.get_context("spawn")
    done, ready, failures = ctx.Event(), ctx.Event(), ctx.Queue()
    readers = [
        ctx.Process(target=_reader, args=(config, owner.id, urls, done, failures))
        for _ in range(READERS)
    ]
    writer = ctx.Process(target=_appender, args=(config, ready, done))
    for process in readers + [writer]:
        process.start()
    ready.set()
    results = [failures.get(timeout=300) for _ in readers]
    for process in readers + [writer]:
        process.join(60)
        assert process.exitcode == 0
    database.connect(reuse_if_open=True)
    errors = [failure for _reads, bad in results for failure in bad]
    assert errors == [], errors[:5]
    assert sum(reads for reads, _bad in results) >= READERS * 3 * len(urls)
    assert _checkpoints()[-1][0] == get_ledger().size()
