"""Board pages: dashboard, applications, parameters, members."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from coop import calendar
from coop import params as params_module
from coop.auth import operations as auth_operations
from coop.auth.forms import DeclineForm, EmptyForm
from coop.board import operations
from coop.board.forms import ParametersForm
from coop.confirm import Confirmation, is_confirmed, render_confirmation
from coop.inputs import parse_page
from coop.models import MemberStatus, TaskState, User, utcnow
from coop.web import board_required

bp = Blueprint("board", __name__, url_prefix="/board")


def _month_start():
    return calendar.month(utcnow()).start


@bp.get("/")
@board_required
def dashboard():
    figures = operations.dashboard_figures(current_user, _month_start())
    return render_template("board/dashboard.html", figures=figures, states=list(TaskState))


def _applications_page(status=200):
    return (
        render_template(
            "board/applications.html",
            pending=operations.pending_applications(current_user),
            decisions=operations.recent_decisions(current_user),
        ),
        status,
    )


@bp.get("/applications")
@board_required
def applications():
    return _applications_page()


def _application(applicant_id: int) -> User:
    """Return the member account the application belongs to (404 for any other id)."""
    applicant = User.get_or_none(
        (User.id == applicant_id) & User.role.in_(operations.MEMBER_ROLES)
    )
    if applicant is None:
        abort(404)
    return applicant


def _decided(applicant: User) -> bool:
    return applicant.member_status != MemberStatus.APPLICANT


def _already_decided():
    """Back to the applications, saying why (a confirmed POST lets the operation refuse)."""
    flash(_("This application has already been decided."), "error")
    return redirect(url_for("board.applications"))


def _confirm_admit(applicant_id: int):
    applicant = _application(applicant_id)
    if _decided(applicant):
        return _already_decided()
    return render_confirmation(Confirmation(
        title=_("Admit %(name)s?", name=applicant.name),
        consequences=[
            _("%(name)s becomes a member of the coop: they may claim tasks, bid, join projects "
              "and receive profit-sharing statements.", name=applicant.name),
            _("The admission is recorded on the public ledger."),
        ],
        final=_("A member cannot be made an applicant again; the board can only disable the "
                "account later."),
        action=url_for("board.admit", applicant_id=applicant.id),
        submit=_("Admit %(name)s", name=applicant.name),
        back=url_for("board.applications"),
        danger=False,
    ))


@bp.route("/applications/<id:applicant_id>/admit", methods=["GET", "POST"])
@board_required
def admit(applicant_id: int):
    if not is_confirmed():
        return _confirm_admit(applicant_id)
    if not EmptyForm().validate_on_submit():
        return _applications_page(status=400)
    applicant = auth_operations.admit_member(current_user, applicant_id)
    flash(_("%(name)s is now a member.", name=applicant.name), "success")
    return redirect(url_for("board.applications"))


def _decline_page(applicant: User, form: DeclineForm, status: int = 200):
    days = params_module.current().reapply_after_days
    return render_confirmation(
        Confirmation(
            title=_("Decline the application of %(name)s?", name=applicant.name),
            consequences=[
                _("%(name)s is told that the board declined, with the reason you write below.",
                  name=applicant.name),
                ngettext("They may apply again in %(num)d day.",
                         "They may apply again in %(num)d days.", days)
                if days else _("They may apply again at once."),
            ],
            final=_("This application is closed: only a new application can be admitted."),
            action=url_for("board.decline", applicant_id=applicant.id),
            submit=_("Decline the application"),
            back=url_for("board.applications"),
        ),
        form=form,
        fields=["reason"],
        status=status,
    )


@bp.route("/applications/<id:applicant_id>/decline", methods=["GET", "POST"])
@board_required
def decline(applicant_id: int):
    applicant = _application(applicant_id)
    if not is_confirmed():
        if _decided(applicant):
            return _already_decided()
        # The first step only shows the page, with what was written so far.
        return _decline_page(applicant, DeclineForm())
    form = DeclineForm()
    if not form.validate_on_submit():
        return _decline_page(applicant, form, status=400)
    auth_operations.decline_member(current_user, applicant.id, form.reason.data)
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
    clients = operations.clients_overview(
        current_user, parse_page(request.args.get("clients_page"))
    )
    page = render_template(
        "board/members.html",
        members=rows[:MEMBERS_PER_PAGE],
        page=page,
        has_next=len(rows) > MEMBERS_PER_PAGE,
        clients=clients,
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
