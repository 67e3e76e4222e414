"""Large item uploads go to the job queue: the client lands on the job's page (refreshing, theirs
alone), a worker imports all or nothing and the page shows the result or the bad lines; a
wrong kind of file is refused at once; progress made inside the import's one transaction is
visible meanwhile; an import whose worker died runs again whole from the kept files."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from projects_support import comments, jsonl, make_project

from coop import jobs
from coop.db import write_transaction
from coop.models import Job, JobKind, JobState, utcnow
from coop.projects.models import Item

REFRESH = re.compile(rb'<meta http-equiv="refresh" content="\d+">')


@pytest.fixture
def queued(app, tmp_path):
    """Uploads above 200 bytes go to a SQLite queue, for a worker (here: jobs.run) to take."""
    app.config["IMPORT_INLINE_BYTES"] = 200
    app.config["QUEUE_URL"] = f"sqlite:///{tmp_path / 'queue.db'}"
    jobs.init_app(app)
    with app.test_request_context():
        yield app


@pytest.fixture
def owner(make_client_user):
    return make_client_user()


@pytest.fixture
def draft(queued, owner):
    return make_project(owner, items=0, publish=False)


def _upload(app, owner, project, body: bytes, name="items.jsonl"):
    web = app.test_client(user=owner)
    return web.post(f"/projects/{project.id}/items", data={"items": (io.BytesIO(body), name)})


def _imports(app) -> Path:
    return Path(app.config["INSTANCE_DIR"]) / "imports"


def test_a_large_upload_is_imported_by_a_worker(queued, owner, draft, make_client_user):
    response = _upload(queued, owner, draft, jsonl(comments(40)).getvalue())
    assert response.status_code == 302 and "/jobs/" in response.location
    job = Job.get()
    assert (job.kind, job.state, job.owner_id) == (JobKind.IMPORT_ITEMS, JobState.QUEUED, owner.id)
    assert Item.select().count() == 0 and len(list(_imports(queued).iterdir())) == 1

    page = queued.test_client(user=owner).get(f"/jobs/{job.id}")
    assert page.status_code == 200 and REFRESH.search(page.data)
    # Another client, and the board, do not see a client's job.
    assert queued.test_client(user=make_client_user()).get(f"/jobs/{job.id}").status_code == 404

    done = jobs.run(job.id)
    assert (done.state, done.done, done.total) == (JobState.DONE, 40, 40)
    assert Item.select().where(Item.project == draft.id).count() == 40
    assert list(_imports(queued).iterdir()) == []  # the kept files are gone
    page = queued.test_client(user=owner).get(f"/jobs/{job.id}")
    assert b"40 item(s) imported; 0 already present, unchanged." in page.data
    assert not REFRESH.search(page.data)
    assert f"/projects/{draft.id}".encode() in page.data


def test_a_large_upload_with_bad_rows_imports_nothing_and_says_which(queued, owner, draft):
    rows = comments(30)
    rows[4]["comment"] = ""
    _upload(queued, owner, draft, jsonl(rows).getvalue())
    job = jobs.run(Job.get().id)
    assert job.state == JobState.FAILED
    assert "Nothing imported: line 5: missing field comment" in job.error
    assert Item.select().count() == 0
    page = queued.test_client(user=owner).get(f"/jobs/{job.id}")
    assert b"line 5: missing field comment" in page.data


def test_a_wrong_kind_of_file_is_refused_at_once(queued, owner, draft):
    response = _upload(queued, owner, draft, b"x" * 500, name="items.xlsx")
    assert response.status_code == 400 and b"Upload a .csv or a .jsonl file." in response.data
    assert Job.select().count() == 0 and not _imports(queued).exists()


def test_a_published_project_takes_no_upload_and_says_why(queued, owner):
    published = make_project(owner, items=2)
    response = _upload(queued, owner, published, jsonl(comments(40)).getvalue())
    assert response.status_code == 400 and b"pause it first" in response.data
    small = _upload(queued, owner, published, jsonl(comments(1)).getvalue())
    assert small.status_code == 400 and b"pause it first" in small.data
    assert Job.select().count() == 0 and not _imports(queued).exists()


def test_progress_inside_a_transaction_is_visible_before_it_commits(queued, owner):
    job = Job.create(kind=JobKind.TICK, subject="x", owner=owner, state=JobState.RUNNING)
    with write_transaction():
        jobs._progress(job, 5, 10)
        assert jobs.progress_of(Job.get_by_id(job.id)) == (5, 10)
    assert (Job.get_by_id(job.id).done, Job.get_by_id(job.id).total) == (0, 0)


def test_an_import_whose_worker_died_runs_again_whole(queued, owner, draft):
    _upload(queued, owner, draft, jsonl(comments(25)).getvalue())
    job = Job.get()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    # As a worker killed mid-import leaves it: claimed, nothing committed, files kept.
    Job.update(state=JobState.RUNNING, worker=f"{jobs.socket.gethostname()}:{gone.pid}",
               attempts=1).where(Job.id == job.id).execute()
    assert jobs.run(job.id) is None  # not waiting: a live worker may have it
    assert jobs.requeue_abandoned() == 1
    finished = jobs.run(job.id)
    assert (finished.state, finished.attempts) == (JobState.DONE, 2)
    assert Item.select().count() == 25


def test_a_long_import_reporting_progress_is_not_taken_for_dead(queued, owner):
    """Its row's heartbeat is old (the import's transaction holds the progress back), but the
    queue's store says it is alive: it is not queued a second time."""
    from datetime import timedelta

    old = utcnow() - timedelta(hours=1)
    job = Job.create(kind=JobKind.IMPORT_ITEMS, subject="project:1:x", owner=owner,
                     state=JobState.RUNNING, worker="elsewhere:1", heartbeat_at=old)
    assert jobs.requeue_abandoned(stale_after=timedelta(minutes=10)) == 1
    Job.update(state=JobState.RUNNING).where(Job.id == job.id).execute()
    with write_transaction():
        jobs._progress(job, 100, 1000)
    assert jobs.requeue_abandoned(stale_after=timedelta(minutes=10)) == 0
    assert Job.get_by_id(job.id).state == JobState.RUNNING
