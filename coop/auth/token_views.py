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


@tokens_bp.post("/settings/tokens/<id:token_id>/revoke")
@login_required
def revoke(token_id: int):
    row = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.user == current_user.id))
    if row is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    revoke_token(current_user, row.id)
    flash(_("Token “%(name)s” revoked: it no longer opens the API.", name=row.name), "success")
    return redirect(url_for(".index"))
