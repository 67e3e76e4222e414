"""Password reset by e-mail: a single-use link that expires, stored only as its SHA-256.

Asking for a link answers the same whether or not the address has an account; using one
sets the password, spends every other link of that user and ends all their sessions.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask_babel import gettext as _

from coop import mail
from coop.auth.passwords import check_new_password, hash_password
from coop.auth.sessions import end_sessions
from coop.db import locked, write_transaction
from coop.errors import DomainError
from coop.models import PasswordReset, User, utcnow

log = logging.getLogger(__name__)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_reset(email: str, link_for: Callable[[str], str], minutes: int) -> None:
    """Mail a reset link to the account with this e-mail, if there is an active one.

    Nothing tells the caller whether there was: the page says the same either way.
    link_for(token) builds the absolute link.
    """
    user = User.get_or_none(User.email == (email or "").strip().lower())
    if user is None or not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    with write_transaction():
        PasswordReset.create(
            user=user, token_sha256=_digest(token), expires_at=utcnow() + timedelta(minutes=minutes)
        )
    body = _(
        "Someone, probably you, asked to reset the password of your Coop account.\n\n"
        "Open this link within %(minutes)d minutes to choose a new password:\n%(link)s\n\n"
        "The link works once. If you did not ask, ignore this message: your password stays.",
        minutes=minutes,
        link=link_for(token),
    )
    try:
        mail.send(user.email, _("Reset your Coop password"), body)
    except mail.MailNotSent as error:
        log.error("password reset mail for user %s not sent: %s", user.id, error)


def _live_reset(token: str) -> PasswordReset:
    row = None
    if token and len(token) <= 100:
        query = PasswordReset.select().where(PasswordReset.token_sha256 == _digest(token))
        row = locked(query).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise DomainError(_("This reset link is unknown, used or expired: ask for a new one."))
    return row


def check_token(token: str) -> None:
    """Refuse a link that is unknown, used or expired (before showing the form).

    :raises DomainError: saying so.
    """
    _live_reset(token)


def reset_password(token: str, new: str) -> User:
    """Set a new password with a reset link; spend every link of the user; end their sessions.

    :raises DomainError: the link is unknown, used or expired, or the password breaks a rule.
    """
    with write_transaction():
        row = _live_reset(token)
        user = User.get_by_id(row.user_id)
        if not user.is_active:
            raise DomainError(_("This reset link is unknown, used or expired: ask for a new one."))
        check_new_password(new, user.email)
        now = utcnow()
        PasswordReset.update(used_at=now).where(
            (PasswordReset.user == user.id) & PasswordReset.used_at.is_null()
        ).execute()
        User.update(password_hash=hash_password(new)).where(User.id == user.id).execute()
        end_sessions(user)
    return user
