"""The job page: how far a queued job got and what came of it, refreshing until it is done."""

from dataclasses import dataclass

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coop import jobs
from coop.models import Job, JobKind, JobState

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

REFRESH_SECONDS = 2


@dataclass(frozen=True)
class JobView:
    """What the page shows of a job, as plain values."""

    id: int
    title: str
    code: str  # the state's name, for scripts and tests
    state: str
    finished: bool
    failed: bool
    done: int
    total: int
    result: str
    error: str
    back_url: str
    back_label: str


def _view(job: Job) -> JobView:
    if job.kind == JobKind.ISSUE_STATEMENTS:
        title = _("Issuing the statements of %(month)s", month=job.subject)
        back = url_for("statements.index"), _("Back to the statements")
    elif job.kind == JobKind.ISSUE_ANNUAL:
        year = int(job.subject.removeprefix("FY"))
        title = _("Issuing the annual statements of the fiscal year %(year)s", year=year)
        back = url_for("statements.year", year=year), _("Back to the fiscal year")
    elif job.kind == JobKind.IMPORT_ITEMS:
        project_id = int(job.subject.split(":")[1])
        title = _("Importing items")
        back = url_for("projects.project", project_id=project_id), _("Back to the project")
    elif job.kind == JobKind.AGGREGATE:
        _kind, project_id, method, cut = job.subject.split(":")
        title = _("Aggregating the answers")
        if cut == "0":
            back = (url_for("quality.aggregated", project_id=int(project_id), method=method),
                    _("Download the aggregated answers"))
        else:
            back = (url_for("projects.results_csv", project_id=int(project_id), size=int(cut),
                            method=method), _("Download the results (CSV)"))
    else:
        title = _("Housekeeping")
        back = url_for("market.home"), _("Back to the home page")
    done, total = jobs.progress_of(job)
    labels = {
        JobState.QUEUED: _("waiting for a worker"),
        JobState.RUNNING: _("running"),
        JobState.DONE: _("done"),
        JobState.FAILED: _("failed"),
    }
    return JobView(
        id=job.id,
        title=title,
        code=job.state,
        state=labels[JobState(job.state)],
        finished=job.state in (JobState.DONE, JobState.FAILED),
        failed=job.state == JobState.FAILED,
        done=done,
        total=total,
        result=job.result,
        error=job.error,
        back_url=back[0],
        back_label=back[1],
    )


@bp.get("/<id:job_id>")
@login_required
def show(job_id):
    job = jobs.visible_job(current_user, job_id)
    return render_template("jobs/show.html", job=_view(job), refresh=REFRESH_SECONDS)
