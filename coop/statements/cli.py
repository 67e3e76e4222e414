"""`coop statements close|close-year|render|reproduce`: thin wrappers over the operations."""

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from coop.db import database
from coop.errors import DomainError


@click.group("statements")
def statements_group():
    """Close a month and render its profit-sharing statements."""


def _default_locale():
    """Translate messages in the coop's default language (there is no request to ask)."""
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def _workers() -> int:
    return os.cpu_count() or 1


@statements_group.command("close")
@click.option("--month", required=True, help="The month to close, as YYYY-MM.")
@with_appcontext
def close_command(month):
    """Close a finished month (final) and issue its statements on every core."""
    from coop.statements import operations

    with database.connection_context(), _default_locale():
        try:
            month = operations.parse_month(month)
            period = operations.close_month(None, month)
            count = operations.pending_count(period)
            with click.progressbar(length=count, label=f"Issuing {month}") as bar:
                operations.issue_statements(period, _workers(), bar.update)
        except DomainError as error:
            raise click.ClickException(error.message)
    click.echo(f"{month} closed: totals SHA-256 {period.totals_sha256}, {count} PDF(s) issued.")


@statements_group.command("close-year")
@click.option("--year", required=True, type=int,
              help="The fiscal year to close, named by the calendar year it starts in.")
@with_appcontext
def close_year_command(year):
    """Close a fiscal year whose months are all closed (final) and issue its annual statements."""
    from coop.statements import year_close

    with database.connection_context(), _default_locale():
        try:
            fiscal_year = year_close.close_year(None, year)
            count = year_close.pending_count(fiscal_year)
            with click.progressbar(length=count, label=f"Issuing FY{year}") as bar:
                year_close.issue_statements(fiscal_year, _workers(), bar.update)
        except DomainError as error:
            raise click.ClickException(error.message)
    click.echo(f"Fiscal year {year} closed: totals SHA-256 {fiscal_year.totals_sha256}, "
               f"{count} annual PDF(s) issued.")


@statements_group.command("render")
@click.option("--month", required=True, help="The month, as YYYY-MM.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write the PDFs to (created if missing).")
@click.option("--draft", is_flag=True, help="Render a provisional draft of an open month.")
@with_appcontext
def render_command(month, out_dir, draft):
    """Write a month's summary and member statements as PDFs (issued ones, or drafts)."""
    from coop.statements import operations

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    written = 0
    with database.connection_context(), _default_locale():
        try:
            # Finish an issuing the worker has not done yet: the files asked for must exist.
            period = operations.closed_period(operations.parse_month(month))
            if period is not None and operations.pending_count(period):
                operations.issue_statements(period, _workers())
            files = operations.month_files(month, draft, locale, _workers())
            with click.progressbar(files, length=files.count, label=f"Rendering {month}") as bar:
                for name, pdf in bar:
                    (out / name).write_bytes(pdf)
                    written += 1
        except DomainError as error:
            raise click.ClickException(error.message)
    click.echo(f"Wrote {written} PDF(s) to {out}.")


@statements_group.command("reproduce")
@click.argument("statement_json", type=click.File("rb"))
@click.option("--out", "out_file", type=click.Path(dir_okay=False),
              help="Also write the re-rendered PDF to this file.")
@with_appcontext
def reproduce_command(statement_json, out_file):
    """Re-render a statement from its attached JSON and print the PDF's SHA-256.

    Extract the JSON with `pdfdetach -saveall statement.pdf`; the SHA-256 printed equals the
    PDF's own and the one its `statement.issued` ledger entry carries.
    """
    import hashlib
    import json

    from coop.statements.render import StatementValues, render_statement

    try:
        values = StatementValues.from_data(json.load(statement_json))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise click.ClickException(f"not a statement's JSON: {error!r}")
    pdf = render_statement(values)
    if out_file:
        Path(out_file).write_bytes(pdf)
    click.echo(hashlib.sha256(pdf).hexdigest())
