"""The year's close queues its annual statements as a month's close does: the board's close
returns at once with the figures frozen, a worker issues the PDFs while the year's page shows
how far it got, a download before says to come back (a GET renders and writes nothing), a
second request reuses the queued job, and a worker interrupted mid-issue leaves nothing
half-issued: run again, it issues every annual statement exactly once."""

from datetime import timedelta

import pytest
from conftest import login_client
from test_jobs import REFRESH, _use_queue
from test_statements_year_close import close, statements_app, world  # noqa: F401 - fixtures

from coop import jobs
from coop.models import Event, Job, JobKind, JobState
from coop.statements import year_close
from coop.statements.models import AnnualStatement, FiscalYear


@pytest.fixture
def year_ready(world):  # noqa: F811 - the imported fixture
    """Fiscal year 2025 ready to close (its one month closed), jobs going to a SQLite queue."""
    for who in ("alice", "bob"):
        world["done"](who, 2025, 12)
    close(world["board"], "2025-12")
    return world


@pytest.fixture
def queued(statements_app, tmp_path):  # noqa: F811 - the imported fixture
    _use_queue(statements_app, f"sqlite:///{tmp_path / 'queue.db'}")
    return statements_app


def _annual_events():
    return list(Event.select().where(
        (Event.kind == "statement.issued") & Event.subject.startswith("annual_statement:")))


def _close_year(app, board):
    response = login_client(app, board).post("/statements/years/2025/close",
                                             data={"confirmed": "1"})
    assert response.status_code == 302 and response.location.endswith("/statements/years/2025")
    return Job.get(Job.kind == JobKind.ISSUE_ANNUAL)


def test_the_close_queues_the_issuing_and_the_year_page_follows_it(queued, year_ready):
    board, alice = year_ready["board"], year_ready["alice"]
    job = _close_year(queued, board)
    assert FiscalYear.select().count() == 1  # the figures are frozen at once
    assert (job.state, job.subject, job.board) == (JobState.QUEUED, "FY2025", True)
    assert _annual_events() == []
    assert AnnualStatement.select().where(AnnualStatement.pdf_sha256.is_null()).count() == 2

    client = login_client(queued, board)
    page = client.get("/statements/years/2025")
    assert page.status_code == 200 and REFRESH.search(page.data)
    assert b"0 of 2 annual statements issued." in page.data
    assert f"/jobs/{job.id}".encode() in page.data and b"/issue" not in page.data
    # The job page names the year and leads back to it; a member does not follow it.
    job_page = client.get(f"/jobs/{job.id}")
    assert b"annual statements of the fiscal year 2025" in job_page.data
    assert b"/statements/years/2025" in job_page.data
    assert login_client(queued, alice).get(f"/jobs/{job.id}").status_code == 404

    # A GET never writes: the download says to come back, and issues nothing.
    member = login_client(queued, alice)
    own = f"/statements/years/2025/members/{alice.id}.pdf"
    response = member.get(own)
    assert response.status_code == 503 and b"still being issued" in response.data
    assert own.encode() not in member.get("/statements/years/2025").data  # no link yet
    assert _annual_events() == [] and Job.get_by_id(job.id).state == JobState.QUEUED

    # Asking again reuses the queued job.
    again = client.post("/statements/years/2025/issue")
    assert again.status_code == 302 and Job.select().where(
        Job.kind == JobKind.ISSUE_ANNUAL).count() == 1

    finished = jobs.run(job.id)  # what the worker does with the message
    assert (finished.state, finished.done, finished.total) == (JobState.DONE, 2, 2)
    assert finished.result == "2 annual statement(s) of 2025 issued."
    assert jobs.run(job.id) is None
    assert len(_annual_events()) == 2
    assert member.get(own).status_code == 200
    page = client.get("/statements/years/2025")
    assert not REFRESH.search(page.data) and b"annual statements issued" not in page.data
    assert own.encode() in page.data
    assert client.post("/statements/years/2025/issue").status_code == 409  # nothing left


def test_a_failed_issuing_is_offered_again_on_the_year_page(queued, year_ready):
    board = year_ready["board"]
    job = _close_year(queued, board)
    Job.update(state=JobState.FAILED, error="disk full").where(Job.id == job.id).execute()
    client = login_client(queued, board)
    assert b"/statements/years/2025/issue" in client.get("/statements/years/2025").data
    client.post("/statements/years/2025/issue")
    retry = Job.select().where(Job.kind == JobKind.ISSUE_ANNUAL).order_by(Job.id.desc()).get()
    assert retry.id != job.id and jobs.run(retry.id).state == JobState.DONE
    assert len(_annual_events()) == 2
    # The issuing of a year not closed is refused.
    assert client.post("/statements/years/2026/issue").status_code == 404


class Killed(BaseException):
    """The worker's process ending mid-job: nothing catches it, the job stays RUNNING."""


def test_an_issuing_interrupted_mid_way_resumes_and_issues_each_statement_once(
    queued, year_ready, make_member, monkeypatch
):
    for i in range(3):  # three more capital holders: five annual statements
        make_member(capital_cents=5000 + i)
    job = _close_year(queued, year_ready["board"])
    total = AnnualStatement.select().count()
    assert total == 5
    store = year_close._store_pdf
    stored = []

    def store_then_die(pdf):
        if len(stored) == 2:  # the third PDF rendered, never recorded
            raise Killed
        stored.append(pdf)
        return store(pdf)

    monkeypatch.setattr(year_close, "_store_pdf", store_then_die)
    with pytest.raises(Killed):
        jobs.run(job.id)
    stopped = Job.get_by_id(job.id)
    assert (stopped.state, stopped.done, stopped.total) == (JobState.RUNNING, 2, total)
    # Whatever was issued is whole: each issued statement has its PDF and one ledger entry.
    issued = AnnualStatement.select().where(AnnualStatement.pdf_sha256.is_null(False))
    assert len(_annual_events()) == issued.count() == 2

    monkeypatch.setattr(year_close, "_store_pdf", store)
    assert jobs.requeue_abandoned(stale_after=timedelta(0)) == 1  # as the next worker's tick
    done = jobs.run(job.id)
    assert (done.state, done.done, done.total, done.attempts) == (JobState.DONE, total, total, 2)
    subjects = [e.subject for e in _annual_events()]
    assert len(subjects) == total and len(set(subjects)) == total  # each exactly once
    assert not AnnualStatement.select().where(AnnualStatement.pdf_sha256.is_null()).exists()


def test_two_runs_of_one_issuing_record_each_statement_once(queued, year_ready):
    """A worker wrongly thought dead and the one that took its job over both issue: the run
    that commits a statement second finds it issued and records nothing."""
    _close_year(queued, year_ready["board"])
    fiscal_year = FiscalYear.get()
    other = []

    def meanwhile(count):
        if not other:
            other.append(year_close.issue_statements(FiscalYear.get_by_id(fiscal_year.id)))

    year_close.issue_statements(fiscal_year, progress=meanwhile)
    assert other == [1]
    subjects = [e.subject for e in _annual_events()]
    assert len(subjects) == 2 and len(set(subjects)) == 2


def test_a_year_without_members_closes_and_queues_nothing(queued, world):  # noqa: F811
    """Nobody worked nor held capital: no annual statement, so no job (and no error)."""
    for member in (world["alice"], world["bob"]):
        member.capital_cents = 0
        member.save()
    close(world["board"], "2025-12")
    fiscal_year, job = year_close.close_and_queue(world["board"], 2025)
    assert job is None and fiscal_year.year == 2025 and AnnualStatement.select().count() == 0
    page = login_client(queued, world["board"]).get("/statements/years/2025")
    assert page.status_code == 200 and not REFRESH.search(page.data)
