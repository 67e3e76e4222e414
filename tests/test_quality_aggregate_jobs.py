"""Aggregation off the request path: a project above COOP_AGGREGATE_INLINE_ANSWERS answers gets
its aggregates from a worker. Its download first shows a page (a GET queues nothing) whose
button queues the job; the worker keeps the aggregates keyed by the counted answers; the
downloads then reuse them, equal to an inline computation, until an answer changes the key.
Small projects still aggregate inline, with no job and nothing kept."""

import json

import pytest
from projects_support import keep, make_project

from coop import jobs
from coop.models import Job, JobKind, JobState
from coop.projects import operations as ops
from coop.projects import results as project_results
from coop.projects.models import Answer
from coop.quality import aggregate, aggregate_cache
from coop.quality import results as quality_results
from coop.quality.aggregate import Method
from coop.quality.models import AggregateCache
from ledger.results import ResultsFormat


@pytest.fixture
def queued(app, tmp_path):
    """Projects above 5 answers aggregate in a worker; jobs wait in a SQLite queue."""
    app.config["AGGREGATE_INLINE_ANSWERS"] = 5
    app.config["QUEUE_URL"] = f"sqlite:///{tmp_path / 'queue.db'}"
    jobs.init_app(app)
    with app.test_request_context():
        yield app


def _answered(client, members, items=3):
    project = make_project(client, items=items, overlap=len(members))
    for member in members:
        for _ in range(items):
            ops.submit_answer(member, ops.next_assignment(member, project), keep())
    return project


def test_a_small_project_aggregates_inline(queued, make_client_user, make_member):
    client = make_client_user()
    project = _answered(client, [make_member(), make_member()], items=2)  # 4 answers
    page = queued.test_client(user=client).get(f"/projects/{project.id}/aggregated.jsonl")
    assert page.status_code == 200 and page.mimetype == "application/x-ndjson"
    assert len(page.get_data(as_text=True).splitlines()) == 2
    assert not Job.select().exists() and not AggregateCache.select().exists()


def test_a_large_project_aggregates_in_a_worker_and_reuses_it(queued, make_client_user,
                                                              make_member, monkeypatch):
    client = make_client_user()
    members = [make_member(), make_member(), make_member()]
    project = _answered(client, members)  # 9 answers
    web = queued.test_client(user=client)
    url = f"/projects/{project.id}/aggregated.jsonl?method=majority"
    inline = b"".join(quality_results.aggregated_lines(project, Method.MAJORITY))

    waiting = web.get(url)
    assert waiting.status_code == 200 and b"Compute the aggregates" in waiting.data
    assert not Job.select().exists()  # a GET queues nothing
    queued_page = web.post(f"/projects/{project.id}/aggregates",
                           data={"method": "majority", "cut": "0"})
    assert queued_page.status_code == 302 and "/jobs/" in queued_page.location
    job = Job.get()
    assert (job.kind, job.state) == (JobKind.AGGREGATE, JobState.QUEUED)
    assert b"under way" in web.get(url).data

    assert jobs.run(job.id).state == JobState.DONE
    kept = AggregateCache.get()
    assert (kept.answers, kept.method, kept.cut) == (9, "majority", 0)
    assert "aggregated.jsonl?method=majority" in web.get(f"/jobs/{job.id}").get_data(
        as_text=True)

    # The download now reads the kept aggregates: nothing is aggregated in the request.
    def refuse(*_args, **_kwargs):
        raise AssertionError("aggregated in the request")

    monkeypatch.setattr(aggregate, "aggregate", refuse)
    monkeypatch.setattr(quality_results, "aggregate", refuse)
    served = web.get(url)
    assert served.status_code == 200 and served.data == inline

    # A rejection changes the counted answers, so the key: they are not served any more.
    ops.reject_answer(client, Answer.select().first(), "wrong",
                      "This comment is spam, remove it.")
    assert b"Compute the aggregates" in web.get(url).data


def test_a_large_results_file_uses_the_kept_aggregates(queued, make_client_user, make_member):
    client = make_client_user()
    project = _answered(client, [make_member(), make_member(), make_member()])
    web = queued.test_client(user=client)
    cut = project_results.cut_at()
    url = f"/projects/{project.id}/results.jsonl?size={cut.size}"
    assert b"Compute the aggregates" in web.get(url).data
    assert web.post(f"/projects/{project.id}/aggregates",
                    data={"method": "", "cut": str(cut.size)}).status_code == 302
    assert web.post(f"/projects/{project.id}/aggregates",
                    data={"method": "", "cut": "999999"}).status_code == 404
    jobs.run(Job.get().id)
    assert aggregate_cache.cached(aggregate_cache.key_of(project, Method.MAJORITY, cut.size))
    rows = [json.loads(line) for line in web.get(url).get_data(as_text=True).splitlines()]
    # The same file with the aggregates computed inline, on the request path.
    inline = [json.loads(line) for line in b"".join(
        project_results.results_file(project, ResultsFormat.JSONL, cut)).splitlines()]
    assert len(rows) == 9 == len(inline)
    assert [r["aggregate"] for r in rows] == [r["aggregate"] for r in inline]


def test_the_api_says_when_a_large_projects_aggregates_are_not_ready(queued, make_client_user,
                                                                     make_member):
    from coop.auth.tokens import create_token

    client = make_client_user()
    project = _answered(client, [make_member(), make_member(), make_member()])
    _row, token = create_token(client, "ci")
    api = queued.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    refused = api.get(f"/api/v1/projects/{project.id}/results", headers=headers)
    assert refused.status_code == 503 and b"computed by a worker" in refused.data
    size = project_results.cut_at().size
    queued.test_client(user=client).post(f"/projects/{project.id}/aggregates",
                                         data={"method": "majority", "cut": str(size)})
    jobs.run(Job.get().id)
    served = api.get(f"/api/v1/projects/{project.id}/results?size={size}", headers=headers)
    assert served.status_code == 200 and len(served.data.splitlines()) == 9
