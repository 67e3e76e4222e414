"""Statements pages: months and their close for the board, own statements for members."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from coop.confirm import Confirmation, is_confirmed, render_confirmation
from coop.errors import DomainError, NotFound
from coop.formats import money as format_money
from coop.statements import operations, queries, year_close
from coop.statements.forms import CloseForm, ExpenseForm
from coop.statements.models import Expense
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


def _confirm_close(month):
    """Say what closing the month does, with its figures as they stand, before it is final."""
    month = operations.parse_month(month)
    refusal = operations.close_refusal(month)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(url_for("statements.index"))
    figures = operations.compute(month).figures
    totals = figures["totals"]
    members = len(figures["members"])
    return render_confirmation(Confirmation(
        title=_("Close %(month)s?", month=month),
        consequences=[
            _("The figures of %(month)s are frozen as they stand now: a surplus of %(surplus)s "
              "after %(expenses)s of expenses.", month=month,
              surplus=format_money(totals["surplus_cents"]),
              expenses=format_money(totals["expenses_cents"]))
            if not totals["loss_carried_cents"] else
            _("The figures of %(month)s are frozen as they stand now: no surplus, and a loss of "
              "%(loss)s carried to the next month, after %(expenses)s of expenses.", month=month,
              loss=format_money(totals["loss_carried_cents"]),
              expenses=format_money(totals["expenses_cents"])),
            ngettext("%(num)d member's statement is issued as a PDF, with the board's summary.",
                     "%(num)d members' statements are issued as PDFs, with the board's summary.",
                     members),
            _("The close and the hash of its figures are recorded on the public ledger."),
        ],
        final=_("No expense of %(month)s can be added or corrected afterwards, and the "
                "statements are final.", month=month),
        action=url_for("statements.close", month=month),
        submit=_("Close %(month)s and issue the statements", month=month),
        back=url_for("statements.index"),
    ))


@bp.route("/<month>/close", methods=["GET", "POST"])
@board_required
def close(month):
    if not is_confirmed():
        return _confirm_close(month)
    month = operations.parse_month(month)
    if not CloseForm().validate_on_submit():
        flash(_("The form expired or was not sent by this site."), "error")
        return redirect(url_for("statements.index")), 400
    _period, job = operations.close_and_queue(current_user, month)
    flash(_("%(month)s is closed; its statements are being issued.", month=month), "success")
    return redirect(url_for("jobs.show", job_id=job.id))


def _expense(expense_id: int) -> Expense:
    expense = Expense.get_or_none(Expense.id == expense_id)
    if expense is None:
        raise NotFound(_("No such expense."))
    return expense


def _expense_page(expense: Expense, form: ExpenseForm, status: int = 200):
    page = render_template(
        "statements/expense.html", expense=expense, form=form,
        closed=operations.closed_period(expense.month) is not None, delete_form=CloseForm(),
    )
    return page, status


@bp.route("/expenses/<id:expense_id>", methods=["GET", "POST"])
@board_required
def edit_expense(expense_id: int):
    """Correct an expense of a month not closed yet."""
    expense = _expense(expense_id)
    if request.method == "GET":
        euros, cents = divmod(expense.amount_cents, 100)
        form = ExpenseForm(formdata=None, label=expense.label, amount=f"{euros}.{cents:02d}")
        return _expense_page(expense, form)
    form = ExpenseForm()
    if form.validate_on_submit():
        try:
            operations.correct_expense(current_user, expense, form.label.data, form.amount_cents)
        except DomainError as error:
            if error.status != 400:
                raise
            getattr(form, error.field or "label").errors.append(error.message)
        else:
            flash(_("Expense corrected."), "success")
            return redirect(url_for("statements.index"))
    return _expense_page(expense, form, 400)


@bp.post("/expenses/<id:expense_id>/delete")
@board_required
def delete_expense(expense_id: int):
    expense = _expense(expense_id)
    if not CloseForm().validate_on_submit():
        flash(_("The form expired or was not sent by this site."), "error")
        return redirect(url_for("statements.edit_expense", expense_id=expense.id)), 400
    operations.delete_expense(current_user, expense)
    flash(_("Expense “%(label)s” removed from %(month)s.", label=expense.label,
            month=expense.month), "success")
    return redirect(url_for("statements.index"))


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


# -- fiscal years -------------------------------------------------------------------------


@bp.get("/years/<int:year>")
@member_required
def year(year: int):
    """The fiscal year: its months, and its figures once closed (the board's preview before)."""
    view = queries.year_view(current_user, year_close.parse_year(year))
    return render_template("statements/year.html", view=view, issue_form=CloseForm())


@bp.get("/years/<int:year>/members/<id:member_id>.pdf")
@member_required
def annual_statement(year: int, member_id: int):
    name, pdf = year_close.annual_pdf(current_user, year, member_id)
    return _download(name, pdf, "application/pdf")


def _confirm_close_year(year: int):
    """Say what closing the year does, with its figures as they stand, before it is final."""
    refusal = year_close.close_refusal(year)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(url_for("statements.year", year=year))
    totals = year_close.compute(year).totals
    return render_confirmation(Confirmation(
        title=_("Close the fiscal year %(year)s?", year=year),
        consequences=[
            _("The year's result, %(result)s after a loss brought forward of %(loss)s, is split "
              "under art. 33: %(work)s of work share, %(dividends)s of dividends.",
              result=format_money(totals["income_cents"]),
              loss=format_money(totals["loss_brought_cents"]),
              work=format_money(totals["work_share_cents"]),
              dividends=format_money(totals["dividends_cents"]))
            if not totals["loss_carried_cents"] else
            _("The year made a loss of %(loss)s: nothing is shared, and the loss is carried to "
              "the next fiscal year.", loss=format_money(totals["loss_carried_cents"])),
            _("The months advanced %(advances)s on the work share; %(balance)s is due to the "
              "members at the close.", advances=format_money(totals["advances_cents"]),
              balance=format_money(totals["balance_due_cents"])),
            _("Each member's annual statement is issued as a PDF, and the close and the hash "
              "of its figures are recorded on the public ledger."),
        ],
        final=_("The year's figures are final; the next fiscal year's first month can then "
                "close."),
        action=url_for("statements.close_year", year=year),
        submit=_("Close the fiscal year %(year)s", year=year),
        back=url_for("statements.year", year=year),
    ))


@bp.route("/years/<int:year>/close", methods=["GET", "POST"])
@board_required
def close_year(year: int):
    year = year_close.parse_year(year)
    if not is_confirmed():
        return _confirm_close_year(year)
    if not CloseForm().validate_on_submit():
        flash(_("The form expired or was not sent by this site."), "error")
        return redirect(url_for("statements.year", year=year)), 400
    year_close.close_and_queue(current_user, year)
    flash(_("The fiscal year %(year)s is closed; its annual statements are being issued.",
            year=year), "success")
    return redirect(url_for("statements.year", year=year))


@bp.post("/years/<int:year>/issue")
@board_required
def issue_year(year: int):
    """Queue again the issuing of a closed year's annual PDFs that are not issued yet."""
    fiscal_year = year_close.years.closed_year(year_close.parse_year(year))
    if fiscal_year is None:
        raise NotFound(_("The fiscal year %(year)s is not closed.", year=year))
    if not CloseForm().validate_on_submit():
        flash(_("The form expired or was not sent by this site."), "error")
        return redirect(url_for("statements.year", year=year)), 400
    year_close.queue_issuing(current_user, fiscal_year)
    return redirect(url_for("statements.year", year=year))
