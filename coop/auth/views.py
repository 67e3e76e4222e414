"""Sign-in, registration, membership applications, settings and language."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from coop import mail
from coop.auth import operations, sessions, signup
from coop.auth.forms import (
    ApplyForm,
    EmptyForm,
    LanguageForm,
    LoginForm,
    ReapplyForm,
    RegisterForm,
    SettingsForm,
)
from coop.auth.limits import guessing_limits
from coop.auth.roles import role_label
from coop.errors import DomainError
from coop.extensions import login_manager
from coop.models import utcnow

bp = Blueprint("auth", __name__)


login_manager.user_loader(sessions.load_user)


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site, never to another host."""
    if target and target.startswith("/") and not target.startswith("//"):
        if not urlsplit(target).netloc:
            return target
    return url_for("market.home")


@bp.route("/login", methods=["GET", "POST"])
@guessing_limits
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = operations.authenticate(form.email.data, form.password.data)
        if user is not None and user.is_active:
            session.clear()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            form.password.errors.append(_("This account is disabled; write to the board."))
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 400


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        # "Log out" logs out everywhere: a copied or forgotten cookie must not outlive it.
        operations.log_out_everywhere(current_user._get_current_object())
        logout_user()
        session.clear()
    return redirect(url_for("market.home"))


def _register(form, create, template: str):
    """Open the account, or mail the owner of a taken address; answer the same either way."""
    if form.validate_on_submit():
        try:
            links = {"login": mail.link("auth.login"), "forgot": mail.link("passwords.forgot")}
            signup.open_account(lambda: create(form), form.email.data, links)
        except DomainError as error:
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            flash(
                _("Thank you. We sent a message to %(email)s: it says how to sign in.",
                  email=form.email.data.strip().lower()),
                "success",
            )
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template(template, form=form), status


@bp.route("/register", methods=["GET", "POST"])
def register():
    def create(f):
        return operations.register_client(f.email.data, f.name.data, f.password.data)

    return _register(RegisterForm(), create, "auth/register.html")


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    def create(f):
        return operations.apply_for_membership(
            f.email.data, f.name.data, f.password.data, f.note.data, f.sensitive_opt_in.data
        )

    return _register(ApplyForm(), create, "auth/apply.html")


def _settings_page(form, reapply_form=None, status=200):
    user = current_user._get_current_object()
    page = render_template(
        "auth/settings.html",
        form=form,
        role=role_label(user),
        reapply_from=operations.reapply_from(user),
        reapply_form=reapply_form or ReapplyForm(formdata=None),
        now=utcnow(),
    )
    return page, status


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        operations.update_preferences(current_user, form.sensitive_opt_in.data, form.timezone.data)
        flash(_("Settings saved."), "success")
        return redirect(url_for("auth.settings"))
    return _settings_page(form, status=400 if form.errors else 200)


@bp.post("/settings/reapply")
@login_required
def reapply():
    """A declined applicant applies again, after the board's waiting period."""
    form = ReapplyForm()
    if form.validate_on_submit():
        try:
            operations.reapply(current_user._get_current_object(), form.note.data)
        except DomainError as error:
            # Said above the page: the form is not shown while the waiting period runs.
            flash(error.message, "error")
        else:
            flash(_("Your application is with the board again."), "success")
            return redirect(url_for("auth.settings"))
    return _settings_page(SettingsForm(obj=current_user), form, status=400)


@bp.post("/language")
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
    return redirect(_safe_next(request.form.get("next")))
