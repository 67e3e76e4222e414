"""API bearer tokens: created and shown once, stored as SHA-256, revocable."""

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _

from coop.db import database
from coop.errors import DomainError, NotFound
from coop.models import ApiToken, TokenScope, User, utcnow

TOKEN_PREFIX = "coop_"  # noqa: S105 - a public prefix that marks our tokens, not a secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    actor: User, name: str, scope: TokenScope = TokenScope.READ
) -> tuple[ApiToken, str]:
    """Create a token for actor; return the row and the token text (never stored)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise DomainError(_("Give the token a name of at most 100 characters."), field="name")
    if scope not in set(TokenScope):
        message = _("Choose what the token may do: read, or read and write.")
        raise DomainError(message, field="scope")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with database.atomic():
        row = ApiToken.create(
            user=actor, name=name, token_sha256=_digest(token), prefix=token[:12], scope=scope
        )
    return row, token


def revoke_token(actor: User, token_id: int) -> ApiToken:
    """Revoke one of actor's tokens."""
    row = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.user == actor))
    if row is None or row.revoked_at is not None:
        raise NotFound(_("No such token."))
    row.revoked_at = utcnow()
    row.save()
    return row


def user_for_token(token: str) -> User | None:
    """Return the user a live token belongs to, or None."""
    row = live_token(token)
    return row.user if row is not None else None


def live_token(token: str) -> ApiToken | None:
    """Return the live token row (with its user) for the token text, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (
        ApiToken.select(ApiToken, User)
        .join(User)
        .where(
            (ApiToken.token_sha256 == _digest(token))
            & ApiToken.revoked_at.is_null()
            & User.disabled_at.is_null()  # a disabled account's tokens stop with it
        )
        .first()
    )
    if row is None:
        return None
    _note_use(row)
    return row


# "Last used" is shown to the minute or so; noting it on every read would make every API GET
# a write (and take SQLite's write lock), so it is noted at most once per interval.
LAST_USED_RESOLUTION = timedelta(minutes=10)


def _note_use(row: ApiToken) -> None:
    """Note that the token was used, unless that was noted within LAST_USED_RESOLUTION."""
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = ApiToken.last_used_at.is_null() | (ApiToken.last_used_at < now - LAST_USED_RESOLUTION)
    ApiToken.update(last_used_at=now).where((ApiToken.id == row.id) & stale).execute()


def tokens_of(actor: User) -> list[ApiToken]:
    return list(ApiToken.select().where(ApiToken.user == actor).order_by(ApiToken.id.desc()))
