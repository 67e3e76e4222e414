"""The job queue: long work runs in `coop worker` processes, never inside a request.

Huey carries only a job's id; the `job` table is the truth about who asked, how far it got
and what came of it. A worker claims a job by moving it to RUNNING in one UPDATE, so a job
queued twice runs once, and handlers are resumable (each step commits on its own and skips
what is already done), so a job whose worker died is queued again and finishes where it
stopped (`requeue_abandoned`, run when a worker starts and every few minutes).

COOP_QUEUE_URL picks the queue's storage: a SQLite file in the instance folder by default
(no server), `redis://…` at scale, or `immediate://`, which runs each job at once in the
process that queues it (tests, and one-off scripts).
"""

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import Huey, RedisHuey, SqliteHuey, crontab

from coop.db import after_commit, database, write_transaction
from coop.errors import DomainError, NotFound
from coop.models import Job, JobKind, JobState, User, utcnow

log = logging.getLogger(__name__)

ACTIVE = (JobState.QUEUED, JobState.RUNNING)
# How often the worker runs `coop tick`'s housekeeping and looks for abandoned jobs.
TICK_MINUTES = 5

Progress = Callable[[int, int], None]  # (done, total)
HANDLERS: dict[JobKind, Callable[[Job, Progress], str]] = {}


def handler(kind: JobKind):
    """Register the function that runs jobs of this kind; it returns a sentence for people."""

    def register(function):
        HANDLERS[kind] = function
        return function

    return register


# -- the queue ----------------------------------------------------------------------------


MAIL_RETRIES, MAIL_RETRY_SECONDS = 5, 120


def make_queue(url: str, instance_dir: str) -> Huey:
    """Return the Huey instance for COOP_QUEUE_URL (empty: a SQLite file in the instance)."""
    if url.startswith("immediate:"):
        return Huey("coop", results=False, immediate=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("coop", results=False, url=url)
    if url.startswith("sqlite:///") or not url:
        path = url.removeprefix("sqlite:///") or str(Path(instance_dir) / "queue.db")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("coop", results=False, filename=path)
    raise ValueError(f"COOP_QUEUE_URL must be sqlite:///PATH, redis://… or immediate:// "
                     f"(got a {url.split(':', 1)[0]!r} URL)")


def init_app(app) -> None:
    """Build the app's queue and register the tasks a worker runs, bound to this app."""
    queue = make_queue(app.config["QUEUE_URL"], app.config["INSTANCE_DIR"])

    # The web and every worker must register the same names: messages carry them.
    @queue.task(name="coop.run_job")
    def run_job(job_id: int) -> None:
        _in_app(app, lambda: run(job_id))

    # A mail server that is down or slow holds a worker, never a request; a failed send is
    # tried again (five times, two minutes apart) before it is given up and logged.
    @queue.task(name="coop.send_mail", retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_SECONDS)
    def send_mail(to: str, subject: str, body: str) -> None:
        from coop import mail

        with app.app_context():
            mail.send(to, subject, body)

    @queue.periodic_task(crontab(minute=f"*/{TICK_MINUTES}"), name="coop.tick")
    def tick() -> None:
        _tick_in_app(app)

    app.extensions["coop.queue"] = queue
    app.extensions["coop.run_job"] = run_job
    app.extensions["coop.send_mail"] = send_mail


def send_mail_later(to: str, subject: str, body: str) -> None:
    """Queue one plain-text message for a worker to send (at once with an immediate queue)."""
    current_app.extensions["coop.send_mail"](to, subject, body)


def queue() -> Huey:
    return current_app.extensions["coop.queue"]


def is_immediate() -> bool:
    return queue().immediate


def _in_app(app, function):
    """Run function in an app context with a connection and the default language."""
    with app.app_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        opened = database.is_closed()
        if opened:
            database.connect()
        try:
            return function()
        finally:
            if opened and not database.is_closed():
                database.close()


def _tick_in_app(app) -> None:
    from coop import housekeeping

    def tick():
        report = housekeeping.tick(utcnow())
        requeued = requeue_abandoned()
        log.info("tick: %s; %d abandoned job(s) queued again", report, requeued)

    _in_app(app, tick)


@handler(JobKind.TICK)
def _tick_job(job: Job, progress: Progress) -> str:
    """Run the housekeeping once as a job (the periodic task runs it without a job row)."""
    from coop import housekeeping

    report = housekeeping.tick(utcnow())
    return _("Housekeeping done: %(returned)s overdue task(s) returned, %(accepted)s "
             "delivery(ies) and %(answers)s answer(s) accepted, %(expired)s lease(s) expired.",
             returned=report.returned, accepted=report.accepted, answers=report.answers,
             expired=report.expired)


def _enqueue(job_id: int) -> None:
    current_app.extensions["coop.run_job"](job_id)


# -- submitting and running ---------------------------------------------------------------


def submit(actor: User | None, kind: JobKind, subject: str, board: bool = False) -> Job:
    """Queue a job once its transaction commits; an unfinished one for the same work is reused.

    actor None is the operator or the system; board jobs are followed by every board member.
    """
    with write_transaction():
        job = (
            Job.select()
            .where((Job.kind == kind) & (Job.subject == subject) & Job.state.in_(ACTIVE))
            .order_by(Job.id)
            .first()
        )
        if job is None:
            job = Job.create(kind=kind, subject=subject, owner=actor, board=board)
            # Queued after the commit: a worker must find the row its message names.
            after_commit(partial(_enqueue, job.id))
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(job_id: int) -> Job | None:
    """Mark the job RUNNING for this process and return it, or None if it is not waiting."""
    now = utcnow()
    with write_transaction():
        claimed = (
            Job.update(state=JobState.RUNNING, worker=worker_name(), heartbeat_at=now,
                       attempts=Job.attempts + 1)
            .where((Job.id == job_id) & (Job.state == JobState.QUEUED))
            .execute()
        )
        if not claimed:
            return None
        Job.update(started_at=now).where((Job.id == job_id) & Job.started_at.is_null()).execute()
    return Job.get_by_id(job_id)


def _progress_key(job_id: int) -> str:
    return f"coop.progress.{job_id}"


def _progress(job: Job, done: int, total: int) -> None:
    """Note how far the job got: in the queue's store at once, and in its row when possible.

    A job that works inside one transaction (an all-or-nothing import) cannot commit its
    progress until the end; the queue's store (another file, or Redis) shows it meanwhile.
    """
    job.done, job.total = done, total
    queue().put(_progress_key(job.id), (done, total, utcnow()))
    if database.in_transaction():
        return
    with write_transaction():
        Job.update(done=done, total=total, heartbeat_at=utcnow()).where(
            Job.id == job.id).execute()


def progress_of(job: Job) -> tuple[int, int]:
    """Return (done, total) for the job page: live while it runs, else as its row says."""
    if job.state == JobState.RUNNING:
        live = queue().get(_progress_key(job.id), peek=True)
        if live is not None:
            return live[0], live[1]
    return job.done, job.total


def _last_sign_of_life(job: Job):
    """Return when the job last reported progress, in its row or in the queue's store."""
    live = queue().get(_progress_key(job.id), peek=True)
    times = [t for t in (job.heartbeat_at, live[2] if live else None) if t is not None]
    return max(times) if times else None


def _finish(job: Job, state: JobState, result: str = "", error: str = "") -> None:
    with write_transaction():
        Job.update(state=state, result=result, error=error, done=job.done, total=job.total,
                   finished_at=utcnow(), heartbeat_at=utcnow()).where(Job.id == job.id).execute()
    queue().get(_progress_key(job.id))  # read once: forgotten


def run(job_id: int) -> Job | None:
    """Run a queued job here and now; return it finished, or None if it was not waiting."""
    job = _claim(job_id)
    if job is None:
        log.info("job %s is not waiting (already run or running elsewhere)", job_id)
        return None
    try:
        result = HANDLERS[JobKind(job.kind)](job, partial(_progress, job))
    except DomainError as error:
        _finish(job, JobState.FAILED, error=error.message)
    except Exception:
        log.exception("job %s (%s %s) failed", job.id, job.kind, job.subject)
        _finish(job, JobState.FAILED, error=_("The job stopped on an unexpected error; the "
                                              "worker's log says which."))
    else:
        _finish(job, JobState.DONE, result=result)
    return Job.get_by_id(job.id)


def _dead_here(worker: str) -> bool:
    """Return whether worker (host:pid) names a process of this host that no longer runs."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def requeue_abandoned(stale_after: timedelta | None = None) -> int:
    """Queue again the jobs whose worker died or whose message was lost; return how many.

    A RUNNING job is abandoned when its worker was a process of this host that is gone, or
    when it has not reported progress for stale_after (COOP_JOB_STALE_SECONDS); a QUEUED job
    when it has waited that long. Queuing twice is harmless: only one worker claims a job.
    """
    if stale_after is None:
        stale_after = timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    limit = utcnow() - stale_after
    running = Job.select().where(Job.state == JobState.RUNNING)
    dead = [j.id for j in running
            if _dead_here(j.worker) or (_last_sign_of_life(j) or limit) < limit]
    waiting = Job.select(Job.id).where((Job.state == JobState.QUEUED) & (Job.created_at < limit))
    ids = dead + [j.id for j in waiting]
    if dead:
        with write_transaction():
            Job.update(state=JobState.QUEUED).where(
                Job.id.in_(dead) & (Job.state == JobState.RUNNING)).execute()
    for job_id in ids:
        _enqueue(job_id)
    return len(ids)


# -- reading ------------------------------------------------------------------------------


def visible_job(actor: User, job_id: int) -> Job:
    """Return the job if actor may follow it: its owner's, or any board member's for board jobs.

    :raises NotFound: no such job, or not the actor's to see.
    """
    job = Job.get_or_none(Job.id == job_id)
    if job is None or actor is None or not (
        job.owner_id == actor.id or (job.board and actor.is_board)
    ):
        raise NotFound(_("Nothing here, or nothing that is yours to see."))
    return job


def active_job(kind: JobKind, subject: str) -> Job | None:
    """Return the unfinished job doing this work, if there is one."""
    return (
        Job.select()
        .where((Job.kind == kind) & (Job.subject == subject) & Job.state.in_(ACTIVE))
        .first()
    )


def latest_job(kind: JobKind, subject: str) -> Job | None:
    return (
        Job.select().where((Job.kind == kind) & (Job.subject == subject))
        .order_by(Job.id.desc()).first()
    )
