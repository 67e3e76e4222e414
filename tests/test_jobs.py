"""The job queue: the board's close returns at once and a worker issues the PDFs while the job's
page refreshes; only the job's owner (or the board, for board jobs) sees it; downloads never
finish an issuing from a GET; a job queued twice runs once; and a real `coop worker` process
killed with SIGKILL mid-issue leaves no statement half-issued, and the next worker finishes
the job with every statement issued exactly once. Also on Redis, with a real redis-server."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import login_client
from test_statements_close import MONTH, example_month, statements_app  # noqa: F401

from coop import jobs
from coop.models import Event, Job, JobKind, JobState, utcnow
from coop.statements.models import Period, Statement

ROOT = Path(__file__).resolve().parent.parent
REFRESH = re.compile(rb'<meta http-equiv="refresh" content="\d+">')


def _use_queue(app, url: str) -> None:
    """Point the app at a real queue (the suite's default runs jobs immediately)."""
    app.config["QUEUE_URL"] = url
    jobs.init_app(app)


@pytest.fixture
def queued(statements_app, tmp_path):  # noqa: F811 - the imported fixture
    """The statements app with jobs going to a SQLite queue file, for a worker to take."""
    _use_queue(statements_app, f"sqlite:///{tmp_path / 'queue.db'}")
    return statements_app


@pytest.fixture
def many(example_month, make_member):  # noqa: F811
    """The worked example plus eight more capital holders: twelve PDFs to issue."""
    extra = [make_member(capital_cents=5000 + i) for i in range(8)]
    return {**example_month, "extra": extra}


def _close(app, board):
    response = login_client(app, board).post(f"/statements/{MONTH}/close", data={"confirmed": "1"})
    assert response.status_code == 302, response.data[-400:]
    job_id = int(response.location.rsplit("/", 1)[1])
    return Job.get_by_id(job_id)


def _issued_events():
    return list(Event.select().where(Event.kind == "statement.issued"))


def test_immediate_close_issues_and_the_job_page_shows_the_result(
    statements_app, example_month, make_board  # noqa: F811
):
    board = make_board()
    job = _close(statements_app, board)
    assert (job.state, job.done, job.total, job.owner_id) == (JobState.DONE, 4, 4, board.id)
    page = login_client(statements_app, board).get(f"/jobs/{job.id}")
    assert page.status_code == 200
    assert b'data-state="done"' in page.data and b"4 PDF(s) of 2025-03 issued." in page.data
    assert not REFRESH.search(page.data)  # finished: nothing more to wait for
    assert len(_issued_events()) == 4


def test_close_returns_at_once_and_downloads_wait_for_the_worker(
    queued, example_month, make_board, make_member  # noqa: F811
):
    board, bob = make_board(), example_month["bob"]
    job = _close(queued, board)
    assert job.state == JobState.QUEUED and _issued_events() == []
    assert Statement.select().where(Statement.pdf_sha256.is_null()).count() == 3

    page = login_client(queued, board).get(f"/jobs/{job.id}")
    assert page.status_code == 200 and REFRESH.search(page.data)
    assert b'data-state="queued"' in page.data
    # Another board member follows the board's job; a member, even one it concerns, does not.
    assert login_client(queued, make_board()).get(f"/jobs/{job.id}").status_code == 200
    assert login_client(queued, bob).get(f"/jobs/{job.id}").status_code == 404
    # The statements page links to the job and offers no second issuing while it is queued.
    index = login_client(queued, board).get("/statements/").data
    assert f"/jobs/{job.id}".encode() in index and b"/issue" not in index

    # A GET never writes: downloads say to come back, and issue nothing.
    member = login_client(queued, bob)
    assert member.get(f"/statements/{MONTH}/members/{bob.id}.pdf").status_code == 503
    assert member.get(f"/statements/{MONTH}/summary.pdf").status_code == 503
    assert login_client(queued, board).get(f"/statements/{MONTH}/all.zip").status_code == 503
    assert _issued_events() == [] and Job.get_by_id(job.id).state == JobState.QUEUED

    # Asking again reuses the queued job rather than queuing a second one.
    again = login_client(queued, board).post(f"/statements/{MONTH}/issue")
    assert again.status_code == 302 and again.location.endswith(f"/jobs/{job.id}")
    assert Job.select().count() == 1

    finished = jobs.run(job.id)  # what the worker does with the message
    assert (finished.state, finished.done, finished.total) == (JobState.DONE, 4, 4)
    assert jobs.run(job.id) is None  # a second message for the same job changes nothing
    assert len(_issued_events()) == 4
    assert member.get(f"/statements/{MONTH}/members/{bob.id}.pdf").status_code == 200
    page = login_client(queued, board).get(f"/jobs/{job.id}")
    assert not REFRESH.search(page.data) and b"4 PDF(s) of 2025-03 issued." in page.data
    # Everything issued: nothing left to queue.
    assert login_client(queued, board).post(f"/statements/{MONTH}/issue").status_code == 409


def test_a_failed_issuing_is_offered_again_and_resumes(
    queued, example_month, make_board  # noqa: F811
):
    board = make_board()
    job = _close(queued, board)
    Job.update(state=JobState.FAILED, error="disk full").where(Job.id == job.id).execute()
    client = login_client(queued, board)
    page = client.get(f"/jobs/{job.id}")
    assert b"disk full" in page.data and not REFRESH.search(page.data)
    assert f"/statements/{MONTH}/issue".encode() in client.get("/statements/").data
    response = client.post(f"/statements/{MONTH}/issue")
    retry = Job.get_by_id(int(response.location.rsplit("/", 1)[1]))
    assert retry.id != job.id and retry.state == JobState.QUEUED
    assert jobs.run(retry.id).state == JobState.DONE
    assert len(_issued_events()) == 4


def test_issuing_a_month_that_is_not_closed_is_refused(queued, make_board):
    client = login_client(queued, make_board())
    assert client.post(f"/statements/{MONTH}/issue").status_code == 404
    assert client.post("/statements/2025-13/issue").status_code == 404
    assert Job.select().count() == 0


def test_a_job_whose_worker_died_is_queued_again(queued, make_board):
    """A RUNNING job whose process on this host is gone goes back to QUEUED; one whose worker
    still runs (this process) is left alone until it is stale."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    gone = Job.create(kind=JobKind.TICK, subject="a", state=JobState.RUNNING,
                      worker=f"{host}:{dead.pid}", heartbeat_at=utcnow())
    alive = Job.create(kind=JobKind.TICK, subject="b", state=JobState.RUNNING,
                       worker=jobs.worker_name(), heartbeat_at=utcnow())
    assert jobs.requeue_abandoned() == 1
    assert Job.get_by_id(gone.id).state == JobState.QUEUED
    assert Job.get_by_id(alive.id).state == JobState.RUNNING
    assert jobs.queue().pending_count() == 1  # its message is waiting for a worker
    from datetime import timedelta

    assert jobs.requeue_abandoned(stale_after=timedelta(0)) == 2  # both, now stale


def test_the_worker_refuses_an_immediate_queue(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0 and "immediate://" in result.output


def test_queue_urls(tmp_path):
    from huey import RedisHuey, SqliteHuey

    default = jobs.make_queue("", str(tmp_path))
    assert isinstance(default, SqliteHuey) and default.storage.filename == str(
        tmp_path / "queue.db")
    assert isinstance(jobs.make_queue("redis://127.0.0.1:1/0", str(tmp_path)), RedisHuey)
    assert jobs.make_queue("immediate://", str(tmp_path)).immediate
    with pytest.raises(ValueError, match="COOP_QUEUE_URL") as refused:
        jobs.make_queue("amqp://user:secret@host", str(tmp_path))
    assert "secret" not in str(refused.value)


# -- a real worker process ---------------------------------------------------------------------


def _worker(app, queue_url: str, processes: int = 1) -> subprocess.Popen:
    env = {
        **os.environ,
        "COOP_RENDER_PROCESSES": str(processes),
        "PYTHONPATH": str(ROOT),
        "COOP_DATABASE_URL": app.config["DATABASE_URL"],
        "COOP_INSTANCE_DIR": app.config["INSTANCE_DIR"],
        "COOP_LEDGER_KEY_FILE": app.config["LEDGER_KEY_FILE"],
        "COOP_UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "COOP_QUEUE_URL": queue_url,
        "COOP_SECRET_KEY": "test-secret",
        "COOP_NTP_SERVERS": "",
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from coop.cli import main; main()", "worker", "--threads", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=str(ROOT),
    )


def _wait(predicate, proc, seconds=120):
    deadline = time.monotonic() + seconds
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(proc.communicate()[0].decode()[-3000:])
        assert time.monotonic() < deadline, "the worker took too long"
        time.sleep(0.05)


def _job(job_id):
    return Job.get_by_id(job_id)


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        output, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    return output.decode()


def test_a_worker_killed_mid_issue_leaves_nothing_half_issued_and_the_next_one_finishes(
    queued, many, make_board
):
    board = make_board()
    job = _close(queued, board)
    total = Statement.select().count() + 1
    assert total == 12
    url = queued.config["QUEUE_URL"]

    first = _worker(queued, url)
    try:
        _wait(lambda: _job(job.id).done >= 2, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    first.stdout.close()
    stopped = _job(job.id)
    assert stopped.state == JobState.RUNNING and 2 <= stopped.done < total
    # Whatever was issued is whole: each issued statement has its PDF and one ledger entry.
    issued = list(Statement.select().where(Statement.pdf_sha256.is_null(False)))
    assert len(_issued_events()) == len(issued) + (Period.get().summary_sha256 is not None)
    assert len(issued) < total - 1

    second = _worker(queued, url)
    try:
        _wait(lambda: _job(job.id).state == JobState.DONE, second)
    finally:
        output = _stop(second)
    assert "1 abandoned job(s) queued again" in output
    done = _job(job.id)
    assert (done.done, done.total, done.attempts) == (total, total, 2)
    events = _issued_events()
    subjects = [e.subject for e in events]
    assert len(events) == total and len(set(subjects)) == total  # each exactly once
    period = Period.get()
    assert period.summary_sha256 and not Statement.select().where(
        Statement.pdf_sha256.is_null()).exists()
    pdfs = Path(queued.config["INSTANCE_DIR"]) / "statements"
    for st in Statement.select():
        assert (pdfs / f"{st.pdf_sha256}.pdf").exists()
        assert f"statement:{st.id}" in subjects


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server on a loopback port (never the shared one)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    proc.terminate()
    proc.wait()


def test_a_worker_on_redis_issues_the_month(statements_app, example_month, make_board,  # noqa: F811
                                            redis_url):
    _use_queue(statements_app, redis_url)
    job = _close(statements_app, make_board())
    assert job.state == JobState.QUEUED
    worker = _worker(statements_app, redis_url, processes=2)  # a pool of renderers
    try:
        _wait(lambda: _job(job.id).state == JobState.DONE, worker)
    finally:
        output = _stop(worker)
    assert "on redis" in output
    assert len(_issued_events()) == 4


def test_the_worker_runs_the_housekeeping_every_five_minutes(app, make_task, make_member):
    """The periodic task is due at :00, :05, …; it returns overdue tasks as `coop tick` does
    and queues again the jobs a dead worker left."""
    from datetime import datetime, timedelta

    from coop.models import Task, TaskState

    queue = app.extensions["coop.queue"]
    due = {t.name for t in queue.read_periodic(datetime(2026, 1, 1, 12, 5))}
    assert "coop.tick" in due
    later = {t.name for t in queue.read_periodic(datetime(2026, 1, 1, 12, 3))}
    assert "coop.tick" not in later

    now = utcnow()
    overdue = make_task(state=TaskState.ASSIGNED, member=make_member(),
                        assigned_at=now - timedelta(days=3), deadline=now - timedelta(hours=1))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    abandoned = Job.create(kind=JobKind.TICK, subject="x", state=JobState.RUNNING,
                           worker=f"{socket.gethostname()}:{dead.pid}")
    jobs._tick_in_app(app)
    assert Task.get_by_id(overdue.id).state == TaskState.OPEN
    # Queued again, and (immediate mode) run at once.
    rerun = Job.get_by_id(abandoned.id)
    assert (rerun.state, rerun.attempts) == (JobState.DONE, 1)
    assert rerun.result.startswith("Housekeeping done: 0 overdue task(s) returned")


def test_two_runs_of_one_issuing_record_each_statement_once(
    queued, example_month, make_board  # noqa: F811
):
    """A worker wrongly thought dead and the one that took its job over both issue: the run
    that commits a statement second finds it issued and records nothing."""
    from coop.statements import operations

    _close(queued, make_board())
    period = Period.get()
    other = []

    def meanwhile(count):
        # After the first run's first statement, a second run issues everything else.
        if not other:
            other.append(operations.issue_statements(Period.get_by_id(period.id)))

    operations.issue_statements(period, progress=meanwhile)
    assert other == [3]
    events = _issued_events()
    assert len(events) == 4 and len({e.subject for e in events}) == 4


def test_a_job_that_crashes_fails_with_a_message_for_people(queued, make_board, monkeypatch,
                                                            caplog):
    """An unexpected error marks the job failed (its page stops refreshing), says where to
    look, and is logged with its traceback; a domain error's own message is kept."""
    from coop.errors import Conflict

    def crash(job, progress):
        raise RuntimeError("disk on fire")

    board = make_board()
    monkeypatch.setitem(jobs.HANDLERS, JobKind.TICK, crash)
    job = Job.create(kind=JobKind.TICK, subject="x", owner=board)
    failed = jobs.run(job.id)
    assert failed.state == JobState.FAILED and "worker's log" in failed.error
    assert "disk on fire" not in failed.error and "disk on fire" in caplog.text
    page = login_client(queued, board).get(f"/jobs/{job.id}")
    assert b'data-state="failed"' in page.data and not REFRESH.search(page.data)

    def refuse(job, progress):
        raise Conflict("Somebody else did it first.")

    monkeypatch.setitem(jobs.HANDLERS, JobKind.TICK, refuse)
    other = Job.create(kind=JobKind.TICK, subject="y", owner=board)
    assert jobs.run(other.id).error == "Somebody else did it first."
