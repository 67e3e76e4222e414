"""`coop project create|import|publish|status|export`: thin wrappers over the project operations.

The commands act for the project's client (the operator running them is trusted, as with
`coop statements`); `create` names that client by email.
"""

import json
from contextlib import contextmanager
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from coop.db import database
from coop.errors import DomainError
from coop.formats import money as format_money


@click.group("project")
def project_group():
    """Create projects, import their items, publish them, follow them and export results."""


@contextmanager
def _operations():
    """A connection, the coop's default language, and domain errors said as CLI errors."""
    with database.connection_context(), force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            yield
        except DomainError as error:
            raise click.ClickException(error.message) from None


def _project(project_id: int):
    from coop.projects.models import Project

    project = Project.get_or_none(Project.id == project_id)
    if project is None:
        raise click.ClickException(f"No project {project_id}.")
    return project


@project_group.command("create")
@click.option("--client", "email", required=True, help="The client's account email.")
@click.option("--title", required=True)
@click.option("--instructions", required=True, help="Shown beside every item.")
@click.option("--template", required=True,
              help='The template as JSON, e.g. \'{"kind": "text", "field": "source"}\'.')
@click.option("--price", "price_cents", type=int, required=True, help="Price per answer, cents.")
@click.option("--seconds", type=int, required=True, help="Estimated seconds per item.")
@click.option("--overlap", type=int, default=1, show_default=True, help="Answers per item.")
@click.option("--deadline", type=click.DateTime(), required=True, help="UTC, e.g. 2026-12-31.")
@click.option("--budget", "budget_cents", type=int, required=True, help="Budget cap, cents.")
@click.option("--sensitive", "content_note", default="", help="Content note: flags it sensitive.")
@with_appcontext
def create_command(email, title, instructions, template, price_cents, seconds, overlap,
                   deadline: datetime, budget_cents, content_note):
    """Create a draft project for a client."""
    from coop.models import User
    from coop.projects.operations import create_project

    try:
        config = json.loads(template)
    except ValueError:
        raise click.ClickException("--template is not JSON.") from None
    with _operations():
        client = User.get_or_none(User.email == email.strip().lower())
        if client is None:
            raise click.ClickException(f"No account {email}.")
        project = create_project(
            client, title=title, instructions=instructions, template=config,
            price_cents=price_cents, estimated_seconds=seconds, overlap=overlap,
            deadline=deadline, budget_cents=budget_cents, sensitive=bool(content_note),
            content_note=content_note,
        )
    click.echo(f"Project {project.id} created as a draft.")


@project_group.command("import")
@click.argument("project_id", type=int)
@click.argument("items", type=click.File("rb"))
@click.option("--media", type=click.File("rb"), help="A zip of the media the rows name.")
@with_appcontext
def import_command(project_id, items, media):
    """Import items from a CSV or JSONL file (all or nothing), with a progress bar."""
    from coop.projects.operations import upload_items

    size = _size(items)
    with _operations():
        project = _project(project_id)
        with click.progressbar(length=size, label="Importing") as bar:
            report = upload_items(
                project.client, project, items, items.name, media,
                progress=lambda _rows: bar.update(max(0, _tell(items) - bar.pos)),
            )
    if not report.ok:
        for line, reason in report.errors:
            click.echo(f"line {line}: {reason}", err=True)
        if report.more_errors:
            click.echo(f"…and {report.more_errors} more.", err=True)
        raise click.ClickException("Nothing was imported.")
    click.echo(f"{report.imported} item(s) imported; {report.unchanged} already present, "
               "unchanged.")


def _size(stream) -> int:
    """Return the file's size in bytes for the progress bar (1 for a pipe or an empty file)."""
    try:
        end = stream.seek(0, 2)
        stream.seek(0)
    except OSError:
        return 1
    return max(end, 1)


def _tell(stream) -> int:
    try:
        return stream.tell()
    except OSError:
        return 0


@project_group.command("publish")
@click.argument("project_id", type=int)
@with_appcontext
def publish_command(project_id):
    """Publish a draft (or resume a paused project)."""
    from coop.projects.operations import publish_project

    with _operations():
        project = _project(project_id)
        project = publish_project(project.client, project)
    click.echo(f"Project {project.id} is published.")


@project_group.command("status")
@click.argument("project_id", type=int)
@with_appcontext
def status_command(project_id):
    """Show a project's state, counts, measured time and spend."""
    from coop.projects.queries import project_stats

    with _operations():
        project = _project(project_id)
        stats = project_stats(project)
    click.echo(f"{project.title}: {project.state}")
    click.echo(f"items {stats.items}, answers wanted {stats.wanted}, answered {stats.answered} "
               f"(pending {stats.pending}, accepted {stats.accepted}, rejected {stats.rejected}),"
               f" skipped {stats.skipped}")
    median = "-" if stats.median_seconds is None else f"{stats.median_seconds} s"
    hourly = "-" if stats.net_per_hour_cents is None else format_money(stats.net_per_hour_cents)
    click.echo(f"median {median}, net per hour {hourly}")
    click.echo(f"spent {format_money(stats.spent_cents)} of {format_money(stats.budget_cents)}")


@project_group.command("export")
@click.argument("project_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True)
@click.option("--output", type=click.File("wb"), default="-",
              help="File to write (default: standard output).")
@click.option("--proof", type=click.File("wb"), default=None,
              help="Also write the proof file binding every row to the same checkpoint.")
@click.option("--method", type=click.Choice(["majority", "dawid_skene", "most_similar"]),
              default=None, help="How each item's answers are aggregated (default: majority "
              "vote for labels, the most similar answer for free text).")
@with_appcontext
def export_command(project_id, fmt, output, proof, method):
    """Write a project's results, one row per answer in ledger order, up to the latest
    published checkpoint, each with its item's aggregated answer; with --proof, the proof that
    `python -m ledger verify-results` checks."""
    from coop.projects import results
    from coop.quality.results import choose_method
    from ledger.results import ResultsFormat

    with _operations():
        project = _project(project_id)
        cut = results.cut_at()
        chosen = choose_method(project, method)
        for chunk in results.results_file(project, ResultsFormat(fmt), cut, chosen):
            output.write(chunk)
        if proof is not None:
            for chunk in results.proof_file(project, cut):
                proof.write(chunk)
    click.echo(f"Results up to checkpoint size {cut.size}.", err=True)
