"""Qualification pages: the list, defining one with its test, a member's standing and results,
taking the test; a client requiring one on a project."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coop.auth.forms import EmptyForm
from coop.errors import DomainError, NotFound
from coop.models import utcnow
from coop.projects import access as project_access
from coop.projects import operations as project_ops
from coop.quality import access
from coop.quality import qualification_queries as queries
from coop.quality import qualifications as ops
from coop.quality.forms import QualificationForm, RequireForm
from coop.quality.models import Qualification
from coop.web import client_required, member_required, role_required

bp = Blueprint("qualifications", __name__)

clients_or_board = role_required(
    lambda u: u.is_client or u.is_board, lambda: _("Only clients and the board can do this.")
)


def _expired():
    return render_template("error.html", status=400, message=_("The form expired.")), 400


def _standing(qualification: Qualification, now):
    """The viewer's own standing, for members."""
    if not current_user.is_member:
        return None
    return queries.standing(current_user, qualification, now)


def _holders(qualification: Qualification, now):
    """How many hold it, for its owner: the client who defined it, or the board."""
    if access.owns_qualification(current_user, qualification):
        return queries.holders(qualification, now)
    return None


@bp.get("/qualifications")
@login_required
def index():
    now = utcnow()
    rows = [
        (queries.row(qualification), _standing(qualification, now), _holders(qualification, now))
        for qualification in queries.visible_to(current_user)
    ]
    return render_template("quality/qualifications.html", rows=rows)


@bp.route("/qualifications/new", methods=["GET", "POST"])
@clients_or_board
def new():
    form = QualificationForm()
    if form.validate_on_submit() and (template := form.template()) is not None:
        items = request.files.get(form.items.name)
        media = request.files.get(form.media.name)
        if not items or not items.filename:
            form.items.errors.append(_("Choose a .csv or .jsonl file."))
        else:
            try:
                qualification = ops.create_qualification(
                    current_user,
                    name=form.name.data,
                    description=form.description.data,
                    instructions=form.instructions.data,
                    template=template,
                    estimated_seconds=form.estimated_seconds.data,
                    pass_mark_pct=form.pass_mark.data,
                    validity_days=form.validity_days.data,
                    retake_days=form.retake_days.data,
                    stream=items.stream,
                    filename=items.filename,
                    media_stream=media.stream if media and media.filename else None,
                )
            except DomainError as error:
                if error.status != 400:
                    raise
                field = {"template": "config"}.get(error.field, error.field)
                getattr(form, field if field in form else "items").errors.append(error.message)
            else:
                flash(_("The qualification and its test are ready."), "success")
                return redirect(url_for("qualifications.show", qualification_id=qualification.id))
    status = 400 if request.method == "POST" else 200
    return render_template("quality/qualification_new.html", form=form), status


@bp.get("/qualifications/<id:qualification_id>")
@login_required
def show(qualification_id: int):
    found = access.visible_qualification(current_user, qualification_id)
    now = utcnow()
    return render_template(
        "quality/qualification.html",
        row=queries.row(found),
        standing=_standing(found, now),
        results=queries.last_results(current_user, found) if current_user.is_member else [],
        holders=_holders(found, now),
    )


@bp.post("/qualifications/<id:qualification_id>/take")
@member_required
def take(qualification_id: int):
    found = access.visible_qualification(current_user, qualification_id)
    if not EmptyForm().validate_on_submit():
        return _expired()
    ops.start_sitting(current_user, found)
    test = found.test
    if project_ops.next_assignment(current_user, test) is None:
        flash(_("Your test is finished: your result is below."), "success")
        return redirect(url_for("qualifications.show", qualification_id=found.id))
    return redirect(url_for("projects.work", project_id=test.id))


@bp.post("/projects/<id:project_id>/qualifications")
@client_required
def require(project_id: int):
    project = project_access.client_project(current_user, project_id)
    form = RequireForm()
    form.qualification.choices = queries.requirable(current_user, project)
    if not form.validate_on_submit():
        raise DomainError(_("Choose a qualification from the list."))
    qualification = Qualification.get_by_id(form.qualification.data)
    ops.require_qualification(current_user, project, qualification)
    flash(_("Only members holding %(name)s now receive this project's items.",
            name=qualification.name), "success")
    return redirect(url_for("projects.project", project_id=project_id))


@bp.post("/projects/<id:project_id>/qualifications/<id:qualification_id>/drop")
@client_required
def drop(project_id: int, qualification_id: int):
    project = project_access.client_project(current_user, project_id)
    qualification = Qualification.get_or_none(Qualification.id == qualification_id)
    if qualification is None:
        raise NotFound(_("No such qualification."))
    if not EmptyForm().validate_on_submit():
        return _expired()
    ops.drop_requirement(current_user, project, qualification)
    flash(_("The project no longer asks for %(name)s.", name=qualification.name), "success")
    return redirect(url_for("projects.project", project_id=project_id))
