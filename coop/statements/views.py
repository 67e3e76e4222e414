"""Statements pages: months and their close for the board, own statements for members."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from coop.errors import DomainError, NotFound
from coop.statements import operations, queries
from coop.statements.forms import CloseForm, ExpenseForm
from coop.web import board_required, member_required

bp = Blueprint("statements", __name__, url_prefix="/statements")


def _locale() -> str:
    return str(get_locale() or "en")


def _draft() -> bool:
    return request.args.get("draft") in ("1", "true", "yes")


def _download(name: str, body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _index(expense_form=None, expense_month=None, status=200):
    view = queries.overview(current_user)
    return render_template(
        "statements/index.html",
        view=view,
        expense_form=expense_form,
        expense_month=expense_month,
        close_form=CloseForm(),
        new_expense_form=ExpenseForm,
    ), status


@bp.get("/")
@member_required
def index():
    return _index()


@bp.get("/<month>/summary.pdf")
@member_required
def summary(month):
    name, pdf = operations.summary_pdf(current_user, month, _draft(), _locale())
    return _download(name, pdf, "application/pdf")


@bp.get("/<month>/members/<id:member_id>.pdf")
@member_required
def member_statement(month, member_id):
    name, pdf = operations.member_pdf(current_user, month, member_id, _draft(), _locale())
    return _download(name, pdf, "application/pdf")


@bp.get("/<month>/all.zip")
@board_required
def all_zip(month):
    name, body = operations.statements_zip(current_user, month, _draft(), _locale())
    return _download(name, body, "application/zip")


@bp.post("/<month>/expenses")
@board_required
def add_expense(month):
    month = operations.parse_month(month)
    form = ExpenseForm()
    if form.validate_on_submit():
        try:
            operations.add_expense(current_user, month, form.label.data, form.amount_cents)
        except DomainError as error:
            if error.status != 400:
                raise
            getattr(form, error.field or "label").errors.append(error.message)
        else:
            flash(_("Expense added to %(month)s.", month=month), "success")
            return redirect(url_for("statements.index"))
    return _index(form, month, 400)


@bp.post("/<month>/close")
@board_required
def close(month):
    month = operations.parse_month(month)
    if not CloseForm().validate_on_submit():
        flash(_("The form expired or was not sent by this site."), "error")
        return redirect(url_for("statements.index")), 400
    _period, job = operations.close_and_queue(current_user, month)
    flash(_("%(month)s is closed; its statements are being issued.", month=month), "success")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/<month>/issue")
@board_required
def issue(month):
    """Queue again the issuing of a closed month's PDFs that are not issued yet."""
    month = operations.parse_month(month)
    period = operations.closed_period(month)
    if period is None:
        raise NotFound(_("%(month)s is not closed.", month=month))
    if not CloseForm().validate_on_submit():
        flash(_("The form expired or was not sent by this site."), "error")
        return redirect(url_for("statements.index")), 400
    job = operations.queue_issuing(current_user, period)
    return redirect(url_for("jobs.show", job_id=job.id))
