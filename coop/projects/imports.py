"""Large item uploads, imported by a worker: the files wait in the instance folder meanwhile.

An import is all or nothing (one transaction) and skips the rows a project already has, so a
worker killed mid-import leaves nothing, and running the job again imports the whole file.
"""

import secrets
import shutil
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from coop import jobs
from coop.errors import DomainError, NotFound
from coop.models import Job, JobKind, User
from coop.projects import operations as ops
from coop.projects.importer import rows_of
from coop.projects.models import Project

MEDIA = "media.zip"


def _folder(token: str) -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "imports" / token


def queue_import(client: User, project: Project, stream, filename: str, media_stream=None) -> Job:
    """Keep the uploaded files and queue their import into project; return the job.

    :raises DomainError: the project takes no items now, or the file is neither CSV nor JSONL.
    """
    ops.check_accepts_items(client, project)
    rows_of(stream, filename)  # refuse a wrong kind of file now, not in the worker
    suffix = ".jsonl" if filename.lower().endswith((".jsonl", ".ndjson")) else ".csv"
    token = secrets.token_hex(8)
    folder = _folder(token)
    folder.mkdir(parents=True)
    with open(folder / f"items{suffix}", "wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    if media_stream is not None:
        with open(folder / MEDIA, "wb") as out:
            shutil.copyfileobj(media_stream, out, 1024 * 1024)
    return jobs.submit(client, JobKind.IMPORT_ITEMS, f"project:{project.id}:{token}")


def _rows_in(path: Path) -> int:
    """Return about how many rows the file holds (its lines, less a CSV's header)."""
    with open(path, "rb") as lines:
        count = sum(chunk.count(b"\n") for chunk in iter(lambda: lines.read(1 << 20), b""))
    return max(count - (path.suffix == ".csv"), 1)


@jobs.handler(JobKind.IMPORT_ITEMS)
def _import_job(job: Job, progress) -> str:
    """Import the kept files into the project, then forget them (whatever the outcome)."""
    _kind, project_id, token = job.subject.split(":")
    folder = _folder(token)
    project = Project.get_or_none(Project.id == int(project_id))
    if project is None or job.owner is None or not folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        raise NotFound(_("The project or the uploaded file is gone: upload it again."))
    items = next(p for p in folder.iterdir() if p.name.startswith("items."))
    total, done = _rows_in(items), 0
    progress(0, total)

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress(min(done, total), total)

    media_path = folder / MEDIA
    try:
        with open(items, "rb") as stream:
            media = open(media_path, "rb") if media_path.exists() else None  # noqa: SIM115
            try:
                report = ops.upload_items(job.owner, project, stream, items.name, media,
                                          progress=step)
            finally:
                if media is not None:
                    media.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    progress(total, total)
    if not report.ok:
        lines = "; ".join(_("line %(line)s: %(reason)s", line=line, reason=reason)
                          for line, reason in report.errors)
        more = report.more_errors
        raise DomainError(
            _("Nothing imported: %(lines)s", lines=lines)
            + (" " + _("(and %(n)s more)", n=more) if more else "")
        )
    return _("%(n)s item(s) imported; %(m)s already present, unchanged.", n=report.imported,
             m=report.unchanged)
