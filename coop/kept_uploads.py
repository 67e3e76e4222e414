"""Files chosen in a form that failed, kept so that the person need not choose them again.

The view stores the files in the content-addressed store on the failed POST (`coop tick`
counts a blob that no task ends up referring to; it never deletes one). The page carries each
kept file in a hidden field as a signed token naming its hash, size and name, bound to the user
and to their session and valid for a day: a hash typed, guessed or copied from someone else's
page attaches nothing. Tokens, not a list in the session cookie, so that many files (or two
tabs) cannot push the cookie past what browsers keep.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app, session
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict

from coop import files
from coop.errors import DomainError
from coop.files import StoredFile
from coop.models import User

FIELD = "kept_upload"  # hidden: one signed token per kept file
REMOVE_FIELD = "remove_upload"  # checkbox: the hash of a kept file to leave out
MAX_AGE_SECONDS = 24 * 3600
_SALT = "coop.kept-upload"
_SESSION_KEY = "kept_uploads_key"  # a random value per session; logging out clears it


@dataclass(frozen=True)
class KeptFile:
    """A kept file as the form shows it: its token for the hidden field, and for people."""

    token: str
    sha256: str
    filename: str
    size: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _session_key() -> str:
    return session.setdefault(_SESSION_KEY, secrets.token_urlsafe(16))


def shown(user: User, stored: Iterable[StoredFile]) -> list[KeptFile]:
    """Return the files for the form to carry, each with a token only user's session accepts."""
    stored = list(stored)
    if not stored:
        return []  # a form carrying no file needs no key in the session
    key = _session_key()
    return [
        KeptFile(
            token=_serializer().dumps(
                [user.id, key, f.sha256, f.size, f.filename, f.content_type]
            ),
            sha256=f.sha256,
            filename=f.filename,
            size=files.format_size(f.size),
        )
        for f in stored
    ]


def carried(user: User, form: MultiDict) -> list[StoredFile]:
    """Return the kept files a submitted form carries, less those it asks to remove.

    :raises DomainError: a token that is not user's in this session, is past its day, or
        names a file no longer in the store (field "attachments").
    """
    removed = set(form.getlist(REMOVE_FIELD))
    kept = []
    for token in form.getlist(FIELD):
        try:
            owner, key, sha256, size, filename, content_type = _serializer().loads(
                token, max_age=MAX_AGE_SECONDS
            )
        except (BadSignature, ValueError, TypeError):
            raise _gone() from None
        if owner != user.id or not secrets.compare_digest(str(key), _session_key()):
            raise _gone()
        if not files.is_stored(sha256):
            raise _gone()
        if sha256 not in removed:
            kept.append(StoredFile(sha256, size, filename, content_type))
    return kept


def merged(kept: Iterable[StoredFile], new: Iterable[StoredFile]) -> list[StoredFile]:
    """Return the kept files then the new ones, each content once (picked again, it is kept)."""
    seen: set[str] = set()
    result = []
    for stored in [*kept, *new]:
        if stored.sha256 not in seen:
            seen.add(stored.sha256)
            result.append(stored)
    return result


def _gone() -> DomainError:
    return DomainError(
        _("A file kept from your last attempt is no longer available: choose it again."),
        field="attachments",
    )
