"""Settings → API tokens: list, create (the token is shown once) and revoke."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from coop.auth.forms import EmptyForm
from coop.auth.tokens import create_token, revoke_token, tokens_of
from coop.confirm import Confirmation, is_confirmed, render_confirmation
from coop.errors import DomainError
from coop.models import ApiToken, TokenScope

tokens_bp = Blueprint("tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. “accounting export”."),
    )
    scope = RadioField(
        _l("It may"),
        choices=[
            SelectChoice(TokenScope.READ.value, _l("Read only")),
            SelectChoice(
                TokenScope.WRITE.value, _l("Read and write (create projects, upload items, review)")
            ),
        ],
        default=TokenScope.READ.value,
    )


def _page(form: TokenForm, status: int = 200, token: str | None = None):
    page = render_template(
        "auth/tokens.html", form=form, tokens=tokens_of(current_user), new_token=token
    )
    return page, status


@tokens_bp.get("/settings/tokens")
@login_required
def index():
    return _page(TokenForm())


@tokens_bp.post("/settings/tokens")
@login_required
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        _row, token = create_token(current_user, form.name.data, TokenScope(form.scope.data))
    except DomainError as error:
        form.name.errors = [*form.name.errors, error.message]
        return _page(form, error.status)
    # Rendered, not redirected: the token exists only in this response, never in the session.
    page, status = _page(TokenForm(formdata=None), 200, token)
    return page, status, {"Cache-Control": "no-store"}


def _own_token(token_id: int) -> ApiToken:
    row = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.user == current_user.id))
    if row is None:
        abort(404)
    return row


def _confirm_revoke(token_id: int):
    row = _own_token(token_id)
    if row.revoked_at is not None:
        flash(_("Token “%(name)s” is already revoked.", name=row.name), "error")
        return redirect(url_for(".index"))
    return render_confirmation(Confirmation(
        title=_("Revoke the token “%(name)s”?", name=row.name),
        consequences=[
            _("Programs that use the token starting with %(prefix)s lose access to the API at "
              "once.", prefix=row.prefix),
        ],
        final=_("A revoked token never works again; create a new one if a program still needs "
                "access."),
        action=url_for(".revoke", token_id=row.id),
        submit=_("Revoke the token"),
        back=url_for(".index"),
    ))


@tokens_bp.route("/settings/tokens/<id:token_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(token_id: int):
    row = _own_token(token_id)
    if not is_confirmed():
        return _confirm_revoke(token_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    revoke_token(current_user, row.id)
    flash(_("Token “%(name)s” revoked: it no longer opens the API.", name=row.name), "success")
    return redirect(url_for(".index"))
