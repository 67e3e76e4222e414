"""Reads for the notification pages and the navigation's count."""

from dataclasses import dataclass
from datetime import datetime

from coop.models import Notification, User

PER_PAGE = 20


@dataclass(frozen=True)
class Line:
    """A notification as the page shows it."""

    id: int
    kind: str
    subject: str
    values: dict
    created_at: datetime
    unread: bool


@dataclass(frozen=True)
class NotificationPage:
    lines: list[Line]
    page: int
    has_next: bool
    unread: int


def unread_count(user_id: int) -> int:
    """Count user's unread notifications: one COUNT on the (user, read_at) index."""
    return (
        Notification.select()
        .where((Notification.user == user_id) & Notification.read_at.is_null())
        .count()
    )


def page_of(user: User, page: int, per_page: int = PER_PAGE) -> NotificationPage:
    """Return one page of user's notifications, newest first."""
    page = max(page, 1)
    rows = list(
        Notification.select()
        .where(Notification.user == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    lines = [
        Line(n.id, n.kind, n.subject, n.values, n.created_at, n.read_at is None)
        for n in rows[:per_page]
    ]
    return NotificationPage(lines, page, len(rows) > per_page, unread_count(user.id))
