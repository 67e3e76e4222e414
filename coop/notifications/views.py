"""The notifications page, opening one, marking all read, and the e-mail preferences."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from coop import formats
from coop.errors import NotFound
from coop.inputs import parse_page
from coop.models import Notification
from coop.notifications import operations, queries, texts
from coop.notifications.forms import EmptyForm, PreferencesForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread():
    """The navigation's count: one COUNT query, for signed-in people only."""
    if current_user and current_user.is_authenticated:
        return {"unread_notifications": queries.unread_count(current_user.id)}
    return {"unread_notifications": 0}


def _own(notification_id: int) -> Notification:
    notification = Notification.get_or_none(
        (Notification.id == notification_id) & (Notification.user == current_user.id)
    )
    if notification is None:
        raise NotFound(_("No such notification among yours."))
    return notification


@bp.get("")
@login_required
def index():
    found = queries.page_of(current_user, parse_page(request.args.get("page")))
    lines = [
        {
            "id": line.id,
            "text": texts.describe(line.kind, line.values, formats.datetime_, formats.money),
            "created_at": line.created_at,
            "unread": line.unread,
        }
        for line in found.lines
    ]
    return render_template(
        "notifications/index.html", page=found, lines=lines, form=EmptyForm()
    )


@bp.post("/<id:notification_id>/open")
@login_required
def open_one(notification_id: int):
    notification = _own(notification_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("notifications.index"))
    operations.open_notification(current_user, notification)
    return redirect(texts.link(notification.subject))


@bp.post("/read-all")
@login_required
def read_all():
    if EmptyForm().validate_on_submit():
        count = operations.mark_all_read(current_user)
        flash(
            ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.",
                     count),
            "success",
        )
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    kinds = texts.kinds_for(current_user)
    form = PreferencesForm()
    form.email_kinds.choices = [(str(k), texts.kind_label(k)) for k in kinds]
    if form.validate_on_submit():
        operations.set_email_kinds(current_user, form.email_kinds.data or [])
        flash(_("Your notification choices are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    if request.method == "GET":
        form.email_kinds.data = operations.email_kinds(current_user)
    status = 400 if form.errors else 200
    return render_template("notifications/preferences.html", form=form), status
