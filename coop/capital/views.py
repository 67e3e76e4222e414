"""The capital register's page: the board records movements and reads the register."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop.capital import operations
from coop.capital.forms import KIND_LABELS, MovementForm
from coop.errors import DomainError
from coop.web import board_required

bp = Blueprint("capital", __name__, url_prefix="/board/capital")


def _page(form=None, status=200):
    return render_template(
        "capital/index.html",
        lines=operations.register(),
        form=form or MovementForm(formdata=None),
        kinds={**KIND_LABELS, "transfer_in": _("Transfer from another member")},
    ), status


@bp.get("/")
@board_required
def index():
    return _page()


@bp.post("/")
@board_required
def record():
    form = MovementForm()
    if form.validate_on_submit():
        try:
            operations.record_movement(current_user, form.kind.data, form.member.data,
                                       form.amount.data, form.counterparty.data,
                                       form.note.data or "")
        except DomainError as error:
            if error.status not in (400, 404):
                raise
            field = getattr(form, error.field or "member", form.member)
            field.errors.append(error.message)
        else:
            flash(_("The movement is in the register and on the ledger."), "success")
            return redirect(url_for("capital.index"))
    return _page(form, 400)
