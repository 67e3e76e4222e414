"""Aggregates of large projects: computed by a worker, kept, and reused by the downloads.

Dawid–Skene reads every answer of a project at once; above COOP_AGGREGATE_INLINE_ANSWERS
answers (5,000 by default) that is too long for a download request. Such a project's downloads
then use the aggregates a worker computed (`quality.aggregate` jobs) and kept in
`aggregate_cache`, keyed by what they were computed from: the method, the results file's cut,
how many answers counted and the newest of them. Any change to the counted answers (a new
answer, a rejection, a voided one) changes the key, so a stale aggregate is never served: the
download asks for a new computation instead. Small projects aggregate inline as before.
"""

import json
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from peewee import fn

from coop import jobs
from coop.db import write_transaction
from coop.errors import NotFound
from coop.models import Job, JobKind, User
from coop.projects.models import Answer, Project
from coop.quality.aggregate import Method, Vote
from coop.quality.models import AggregateCache
from coop.quality.results import counted_answers, item_votes

ALL = 0  # the cut of the aggregated download: every counted answer


@dataclass(frozen=True)
class Key:
    """What an aggregate was computed from."""

    project_id: int
    method: Method
    cut: int  # the results file's checkpoint size, ALL for the aggregated download
    answers: int
    last_answer: int

    @property
    def subject(self) -> str:
        return f"project:{self.project_id}:{self.method.value}:{self.cut}"


def is_large(project: Project) -> bool:
    """Say whether the project's aggregates are computed off the request path."""
    return project.answers_count > current_app.config["AGGREGATE_INLINE_ANSWERS"]


def key_of(project: Project, method: Method, cut: int = ALL) -> Key:
    """Return the key of the project's aggregate as its counted answers stand now."""
    count, last = counted_answers(project, cut or None).select(
        fn.COUNT(Answer.id), fn.MAX(Answer.id)
    ).scalar(as_tuple=True)
    return Key(project.id, method, cut, int(count or 0), int(last or 0))


def cached(key: Key) -> dict[int, Vote] | None:
    """Return the aggregates kept under key, or None."""
    row = AggregateCache.get_or_none(
        (AggregateCache.project == key.project_id) & (AggregateCache.method == key.method)
        & (AggregateCache.cut == key.cut) & (AggregateCache.answers == key.answers)
        & (AggregateCache.last_answer == key.last_answer)
    )
    if row is None:
        return None
    return {int(item): Vote(answer, confidence, votes)
            for item, (answer, confidence, votes) in json.loads(row.votes).items()}


def ready_votes(project: Project, method: Method, cut: int = ALL) -> dict[int, Vote] | None:
    """Return the aggregates a download uses: inline for a small project, kept for a large one
    (None when a worker has yet to compute them: `compute` queues that)."""
    if not is_large(project):
        return item_votes(project, method, cut or None)
    return cached(key_of(project, method, cut))


def pending_job(owner: User, project: Project, method: Method, cut: int = ALL) -> Job | None:
    """Return the owner's unfinished computation of these aggregates, if any (a read)."""
    job = jobs.active_job(JobKind.AGGREGATE, key_of(project, method, cut).subject)
    return job if job is not None and job.owner_id == owner.id else None


def compute(client: User, project: Project, method: Method, cut: int = ALL) -> Job:
    """Queue the computation of a large project's aggregates; return the job to follow."""
    if project.client_id != client.id:
        raise NotFound(_("No such project among yours."))
    return jobs.submit(client, JobKind.AGGREGATE, key_of(project, method, cut).subject)


@jobs.handler(JobKind.AGGREGATE)
def _aggregate_job(job: Job, progress) -> str:
    """Compute and keep the aggregates the job's subject names, replacing older ones."""
    _kind, project_id, method, cut = job.subject.split(":")
    project = Project.get_or_none(Project.id == int(project_id))
    if project is None:
        raise NotFound(_("No such project."))
    progress(0, 1)
    key = key_of(project, Method(method), int(cut))
    # Read only up to the key's newest answer, so the kept votes are exactly what it names.
    votes = item_votes(project, key.method, key.cut or None, through=key.last_answer)
    data = {str(item): [v.answer, v.confidence, v.votes] for item, v in votes.items()}
    with write_transaction():
        AggregateCache.delete().where(
            (AggregateCache.project == project.id) & (AggregateCache.method == key.method)
            & (AggregateCache.cut == key.cut)
        ).execute()
        AggregateCache.create(project=project.id, method=key.method, cut=key.cut,
                              answers=key.answers, last_answer=key.last_answer,
                              votes=json.dumps(data, ensure_ascii=False))
    progress(1, 1)
    return _("%(n)s answers aggregated: the download is ready.", n=key.answers)
