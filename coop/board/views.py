"""Board pages: dashboard, applications, parameters, members."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop import calendar
from coop import params as params_module
from coop.auth import operations as auth_operations
from coop.auth.forms import EmptyForm, ReasonForm
from coop.board import operations
from coop.board.forms import ParametersForm, display_with_unit, format_percent
from coop.inputs import parse_page
from coop.models import TaskState, User, utcnow
from coop.web import board_required

bp = Blueprint("board", __name__, url_prefix="/board")


def _month_start():
    return calendar.month(utcnow()).start


@bp.get("/")
@board_required
def dashboard():
    figures = operations.dashboard_figures(current_user, _month_start())
    return render_template("board/dashboard.html", figures=figures, states=list(TaskState))


def _applications_page(failed_id=None, failed_form=None, status=200):
    return (
        render_template(
            "board/applications.html",
            pending=operations.pending_applications(current_user),
            decisions=operations.recent_decisions(current_user),
            failed_id=failed_id,
            failed_form=failed_form,
            form=EmptyForm(),
        ),
        status,
    )


@bp.get("/applications")
@board_required
def applications():
    return _applications_page()


@bp.post("/applications/<id:applicant_id>/admit")
@board_required
def admit(applicant_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        return _applications_page(status=400)
    applicant = auth_operations.admit_member(current_user, applicant_id)
    flash(_("%(name)s is now a member.", name=applicant.name), "success")
    return redirect(url_for("board.applications"))


@bp.post("/applications/<id:applicant_id>/decline")
@board_required
def decline(applicant_id: int):
    form = ReasonForm()
    if not form.validate_on_submit():
        return _applications_page(failed_id=applicant_id, failed_form=form, status=400)
    applicant = auth_operations.decline_member(current_user, applicant_id, form.reason.data)
    flash(_("The application of %(name)s was declined.", name=applicant.name), "success")
    return redirect(url_for("board.applications"))


@bp.route("/parameters", methods=["GET", "POST"])
@board_required
def parameters():
    current = params_module.current()
    form = ParametersForm()
    if form.validate_on_submit():
        values = form.values()
        if values is not None:
            try:
                operations.update_parameters(current_user, values)
            except operations.InvalidParameters as error:
                form.add_errors(error.errors)
            else:
                flash(_("Parameters saved."), "success")
                return redirect(url_for("board.parameters"))
    elif not form.is_submitted():
        form.fill(current)
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "board/parameters.html",
            form=form,
            current=current,
            development_reserve=format_percent(current.development_reserve_bp),
            display_with_unit=display_with_unit,
        ),
        status,
    )


MEMBERS_PER_PAGE = 50


def _members_page(status=200):
    page = parse_page(request.args.get("page"))
    # One row more than shown tells whether a next page exists.
    rows = operations.members_overview(
        current_user, _month_start(), (page - 1) * MEMBERS_PER_PAGE, MEMBERS_PER_PAGE + 1
    )
    clients = operations.clients_overview(current_user)
    page = render_template(
        "board/members.html",
        members=rows[:MEMBERS_PER_PAGE],
        page=page,
        has_next=len(rows) > MEMBERS_PER_PAGE,
        clients=clients,
        format_percent=format_percent,
        current=params_module.current(),
        form=EmptyForm(),
    )
    return page, status


@bp.get("/members")
@board_required
def members():
    return _members_page()


@bp.post("/members/<id:user_id>/disable")
@board_required
def disable(user_id: int):
    member = User.get_or_none((User.id == user_id) & User.role.in_(operations.MEMBER_ROLES))
    if member is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        return _members_page(status=400)
    auth_operations.disable_account(current_user, member)
    flash(_("The account of %(name)s is disabled; its sessions have ended.", name=member.name),
          "success")
    return redirect(url_for("board.members"))
