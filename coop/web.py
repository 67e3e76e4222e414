"""Web plumbing shared by every blueprint: error pages, security headers, role checks, filters."""

from functools import wraps

from flask import abort, jsonify, make_response, render_template, request
from flask_babel import format_decimal, get_locale, gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from coop import formats, labels
from coop.errors import DomainError

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/ledger/"))


def error_response(status: int, message: str):
    """Render an error as JSON for the API, as a page for people."""
    if wants_json():
        return jsonify(error=message, status=status), status
    return make_response(render_template("error.html", status=status, message=message)), status


def role_required(check, message):
    """Decorate a view so only signed-in users passing check(user) reach it (others get 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from coop.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not check(current_user):
                abort(403, description=message())
            return view(*args, **kwargs)

        return wrapped

    return decorator


def member_required(view):
    return role_required(lambda u: u.is_member, lambda: gettext("Only members can do this."))(
        view
    )


def client_required(view):
    return role_required(lambda u: u.is_client, lambda: gettext("Only clients can do this."))(
        view
    )


def board_required(view):
    return role_required(
        lambda u: u.is_board, lambda: gettext("Only the board can do this.")
    )(view)


def decimal1(value: float) -> str:
    """Format a figure with one decimal in the viewer's locale ("4.3", "4,3")."""
    return format_decimal(value, format="0.0")


def init_app(app) -> None:
    formats.init_app(app)
    labels.init_app(app)
    app.jinja_env.filters["decimal1"] = decimal1
    app.jinja_env.globals["get_locale"] = get_locale

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(DomainError)
    def _domain_error(error):
        return error_response(error.status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return error_response(400, gettext("The form expired or was not sent by this site."))

    @app.errorhandler(HTTPException)
    def _http_error(error):
        messages = {
            401: gettext("Sign in or send an API token."),
            403: gettext("You are not allowed to do this."),
            404: gettext("Nothing here, or nothing that is yours to see."),
            405: gettext("This address does not accept that method."),
            413: gettext("The upload is too large."),
            429: gettext("Too many attempts; please wait a minute and try again."),
        }
        # A description given with abort() is ours and says more; werkzeug's stock one is not.
        custom = error.description != type(error).description
        message = error.description if custom else messages.get(error.code, error.name)
        response = error_response(error.code, message)
        if error.code == 401:
            response[0].headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(Exception)
    def _unexpected(error):
        app.logger.exception("unexpected error")
        return error_response(500, gettext("Something went wrong on our side; nothing changed."))
