"""Passwords: change it (signed in), or reset it with a link sent by e-mail."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from coop import mail
from coop.auth import operations, recovery
from coop.auth.forms import ChangePasswordForm, ForgotPasswordForm, ResetPasswordForm
from coop.auth.limits import guessing_limits
from coop.errors import DomainError

passwords_bp = Blueprint("passwords", __name__)

# The reset page's address holds the token: no Referer may carry it to another page or site.
NO_REFERRER = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _field_error(form, error: DomainError) -> None:
    getattr(form, error.field or "password").errors.append(error.message)


@passwords_bp.route("/settings/password", methods=["GET", "POST"])
@login_required
@guessing_limits
def change():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            operations.change_password(user, form.current.data, form.password.data)
        except DomainError as error:
            _field_error(form, error)
        else:
            # Every other session ended; this browser goes on with the new generation.
            login_user(user)
            flash(_("Password changed. Every other session has been signed out."), "success")
            return redirect(url_for("auth.settings"))
    status = 400 if form.errors else 200
    return render_template("auth/change_password.html", form=form), status


@passwords_bp.route("/forgot", methods=["GET", "POST"])
@guessing_limits
def forgot():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        recovery.request_reset(
            form.email.data,
            lambda token: mail.link("passwords.reset", token=token),
            current_app.config["PASSWORD_RESET_MINUTES"],
        )
        # The same words whether or not the address has an account.
        flash(
            _("If %(email)s has an account, a link to choose a new password is on its way.",
              email=form.email.data.strip().lower()),
            "success",
        )
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form), status


@passwords_bp.route("/reset", methods=["GET", "POST"])
def reset():
    form = ResetPasswordForm()
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
        try:
            recovery.check_token(form.token.data)
        except DomainError as error:
            page = render_template("auth/reset_password.html", form=None, error=error.message)
            return page, 400, NO_REFERRER
        return render_template("auth/reset_password.html", form=form), 200, NO_REFERRER
    if form.validate_on_submit():
        try:
            recovery.reset_password(form.token.data, form.password.data)
        except DomainError as error:
            _field_error(form, error)
        else:
            flash(_("Your password is changed: sign in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 400, NO_REFERRER
