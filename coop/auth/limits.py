"""Guessing limits on sign-in and password forms: per address and per account.

Counting per client address alone lets a botnet guess one account's password from many
addresses, so the same limit is also counted per account, keyed by the e-mail tried
(lower-cased, as accounts are stored). The remote address is the socket's: X-Forwarded-For
is not trusted, so a client cannot pick a fresh address per request.
"""

from flask import current_app, request
from flask_login import current_user

from coop.extensions import limiter


def _limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_key() -> str:
    """The account a POST is about: the e-mail typed, else the signed-in user."""
    email = request.form.get("email")
    if email is None and current_user.is_authenticated:
        return f"account:user:{current_user.id}"
    return "account:" + (email or "").strip().lower()[:254]


def guessing_limits(view):
    """Limit POSTs to view per client address and per account (COOP_LOGIN_RATE_LIMIT each)."""
    per_account = limiter.limit(_limit, methods=["POST"], key_func=_account_key)
    per_address = limiter.limit(_limit, methods=["POST"])
    return per_address(per_account(view))


def _upload_limit() -> str:
    return current_app.config["UPLOAD_RATE_LIMIT"]


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


def upload_limits(view):
    """Limit POSTs that store files to COOP_UPLOAD_RATE_LIMIT per signed-in account.

    A refused form keeps its files in the store (so the person need not pick them again); the
    limit bounds how much one account can store through forms it never completes.
    """
    return limiter.limit(_upload_limit, methods=["POST"], key_func=_user_key)(view)
