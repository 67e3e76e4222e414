"""Notifying people: rows written in the caller's transaction, mail sent once it commits.

`notify` is called by the operation where the event happens, inside its write transaction, so a
notification exists exactly when the change it tells of does. E-mail goes through coop.mail
after the commit (coop.db.after_commit): a rolled-back operation sends nothing.
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _

from coop import formats, mail
from coop.db import after_commit, write_transaction
from coop.errors import DomainError
from coop.models import (
    MemberStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
    Role,
    User,
    utcnow,
)
from coop.notifications import texts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Letter:
    """One notification to mail, with what is needed to write it in the reader's language."""

    to: str
    locale: str | None
    timezone: str
    kind: str
    subject: str
    values: dict


def board_ids(exclude: Iterable[int] = ()) -> list[int]:
    """Return the active board members' ids, less those excluded (a party to the case)."""
    rows = User.select(User.id).where(
        (User.role == Role.BOARD)
        & (User.member_status == MemberStatus.ACTIVE)
        & User.disabled_at.is_null()
        & User.id.not_in(list(exclude) or [0])
    )
    return [row.id for row in rows]


def email_wanted(user_ids: list[int], kind: NotificationKind) -> set[int]:
    """Return which of the users want this kind by e-mail (their choice, else the default)."""
    chosen = dict(
        NotificationPreference.select(NotificationPreference.user, NotificationPreference.email)
        .where(
            NotificationPreference.user.in_(user_ids or [0])
            & (NotificationPreference.kind == kind)
        )
        .tuples()
    )
    default = kind in texts.EMAIL_BY_DEFAULT
    return {i for i in user_ids if chosen.get(i, default)}


def notify(user_ids: Iterable[int], kind: NotificationKind, subject: str, **values) -> None:
    """Tell each user that kind happened to subject; call inside the operation's transaction."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    now = utcnow()
    params = json.dumps(values, sort_keys=True)
    Notification.insert_many(
        [
            {"user": i, "kind": kind, "subject": subject, "params": params, "created_at": now}
            for i in ids
        ]
    ).execute()
    wanted = email_wanted(ids, kind)
    letters = [
        Letter(u.email, u.locale, u.timezone, kind, subject, values)
        for u in User.select().where(User.id.in_(sorted(wanted)) & User.disabled_at.is_null())
    ]
    if letters:
        # A new function each time: after_commit runs each callback queued once.
        after_commit(lambda: send_letters(letters))


def send_letters(letters: list[Letter]) -> None:
    """Write each letter in its reader's language and queue it for a worker to send: a slow or
    failing mail server delays or loses the mail, never the committed work or the request."""
    from coop import jobs

    for letter in letters:
        locale = letter.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(locale):
            subject, body = _write(letter, locale)
        try:
            jobs.send_mail_later(letter.to, subject, body)
        except Exception:  # noqa: BLE001 - the queue itself failed: the work stands, say so
            log.exception("notification mail to a user could not be queued")


def _link(endpoint: str, **values) -> str:
    """Return an absolute link on COOP_BASE_URL, in a request or in a command (`coop tick`)."""
    if has_request_context():
        return mail.link(endpoint, **values)
    # No request to build on (and pushing one would run its teardown, closing the database).
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def _write(letter: Letter, locale: str) -> tuple[str, str]:
    zone = ZoneInfo(letter.timezone or current_app.config["TIMEZONE"])

    def when(moment: datetime) -> str:
        return formats.datetime_(moment, locale=locale, zone=zone)

    def money(cents: int) -> str:
        return formats.money(cents, locale=locale)

    sentence = texts.describe(letter.kind, letter.values, when, money)
    endpoint, values = texts.target(letter.subject)
    body = "\n\n".join(
        [
            sentence,
            _("Open it: %(link)s", link=_link(endpoint, **values)),
            _("Choose which notifications you get by e-mail: %(link)s",
              link=_link("notifications.preferences")),
        ]
    )
    return _("Coop: %(sentence)s", sentence=_shorten(sentence)), body


def _shorten(sentence: str, limit: int = 120) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


# --- the reader's side ------------------------------------------------------------------------


def open_notification(user: User, notification: Notification) -> Notification:
    """Mark user's notification read (the view has checked it is theirs)."""
    if notification.user_id != user.id:
        raise DomainError(_("This notification is not yours."))
    with write_transaction():
        Notification.update(read_at=utcnow()).where(
            (Notification.id == notification.id) & Notification.read_at.is_null()
        ).execute()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of user read; return how many."""
    with write_transaction():
        return (
            Notification.update(read_at=utcnow())
            .where((Notification.user == user.id) & Notification.read_at.is_null())
            .execute()
        )


def set_email_kinds(user: User, kinds: Iterable[str]) -> None:
    """Keep user's choice of which kinds come by e-mail (among those they can receive)."""
    offered = texts.kinds_for(user)
    chosen = set(kinds)
    unknown = chosen - set(offered)
    if unknown:
        raise DomainError(_("Choose among the notifications offered."), field="email_kinds")
    with write_transaction():
        NotificationPreference.delete().where(NotificationPreference.user == user.id).execute()
        if offered:
            NotificationPreference.insert_many(
                [{"user": user.id, "kind": k, "email": k in chosen} for k in offered]
            ).execute()


def email_kinds(user: User) -> list[str]:
    """Return the kinds user gets by e-mail, for the preferences form."""
    return [k for k in texts.kinds_for(user) if email_wanted([user.id], k)]
