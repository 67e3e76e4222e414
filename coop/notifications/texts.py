"""What a notification says and where it leads, rendered for its reader when read or mailed.

Notifications store a kind and plain parameters, never sentences: the reader's language (and
its translations, which improve) decide the words at the moment they are shown.
"""

from collections.abc import Callable
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _

from coop.models import NotificationKind, Role, User

K = NotificationKind

# Which kinds each kind of person can receive (the preferences page offers only these).
MEMBER_KINDS = (
    K.BID_AWARDED,
    K.DELIVERY_REJECTED,
    K.DISPUTE_RESOLVED,
    K.TASK_PAID,
    K.ANSWERS_REJECTED,
    K.VOTE_OPENED,
    K.VOTE_COUNTED,
    K.FRAUD_REPORTED,
    K.FRAUD_DECIDED,
)
CLIENT_KINDS = (K.DELIVERY_WAITING,)
BOARD_KINDS = (K.APPLICATION_RECEIVED, K.DISPUTE_OPENED)

# Mailed unless the person says otherwise: what needs them soon or changes their pay. Payments
# and project rejections come often and wait happily in the app.
EMAIL_BY_DEFAULT = frozenset(
    {
        K.BID_AWARDED,
        K.DELIVERY_REJECTED,
        K.DISPUTE_RESOLVED,
        K.DELIVERY_WAITING,
        K.APPLICATION_RECEIVED,
        K.DISPUTE_OPENED,
        K.VOTE_OPENED,
        K.FRAUD_REPORTED,
        K.FRAUD_DECIDED,
    }
)


def kinds_for(user: User) -> tuple[NotificationKind, ...]:
    """Return the kinds user can receive, for the preferences page."""
    if user.role == Role.CLIENT:
        return CLIENT_KINDS
    kinds = MEMBER_KINDS if user.is_member else ()
    return kinds + (BOARD_KINDS if user.is_board else ())


def kind_label(kind: str) -> str:
    """Name a kind for the preferences page."""
    labels = {
        K.BID_AWARDED: _("A client chose my bid"),
        K.DELIVERY_REJECTED: _("A client rejected my delivery"),
        K.DISPUTE_RESOLVED: _("The board decided my dispute"),
        K.TASK_PAID: _("A task of mine was accepted and credited"),
        K.ANSWERS_REJECTED: _("A client rejected answers of mine in a project"),
        K.DELIVERY_WAITING: _("A delivery waits for my review"),
        K.APPLICATION_RECEIVED: _("Someone applied to join the coop"),
        K.DISPUTE_OPENED: _("A member disputed a rejection"),
        K.VOTE_OPENED: _("The general assembly asks my vote"),
        K.VOTE_COUNTED: _("A vote of the general assembly is counted"),
        K.FRAUD_REPORTED: _("Answers of mine are reported as fraud"),
        K.FRAUD_DECIDED: _("The board decided a fraud finding against me"),
    }
    return labels.get(kind, kind)


def describe(kind: str, values: dict, when: Callable[[datetime], str], money: Callable) -> str:
    """Return the sentence for a notification; when and money format times and cents."""
    title = values.get("title", "")
    if kind == K.BID_AWARDED:
        return _("Your bid won: “%(title)s” is yours for %(amount)s.", title=title,
                 amount=money(values.get("cents", 0)))
    if kind == K.DELIVERY_REJECTED:
        return _("The client rejected your delivery for “%(title)s”; you may resubmit or "
                 "dispute it.", title=title)
    if kind == K.DISPUTE_RESOLVED and values.get("upheld"):
        return _("The board upheld your dispute on “%(title)s”: the delivery is accepted.",
                 title=title)
    if kind == K.DISPUTE_RESOLVED:
        return _("The board dismissed your dispute on “%(title)s”: the rejection stands.",
                 title=title)
    if kind == K.TASK_PAID:
        return _("“%(title)s” is accepted: %(amount)s credited to you.", title=title,
                 amount=money(values.get("cents", 0)))
    if kind == K.ANSWERS_REJECTED:
        return _("The client rejected an answer of yours in “%(title)s”.", title=title)
    if kind == K.DELIVERY_WAITING:
        deadline = datetime.fromisoformat(values["deadline"])
        return _("A delivery for “%(title)s” waits for your review; it is accepted "
                 "automatically on %(deadline)s.", title=title, deadline=when(deadline))
    if kind == K.APPLICATION_RECEIVED:
        return _("%(name)s applied to join the coop.", name=values.get("name", ""))
    if kind == K.DISPUTE_OPENED and values.get("stated_time"):
        return _("A client disputes the time stated for “%(title)s”.", title=title)
    if kind == K.DISPUTE_OPENED:
        return _("A member disputes the rejection of “%(title)s”.", title=title)
    if kind == K.VOTE_OPENED:
        closes = datetime.fromisoformat(values["closes_at"])
        return _("The general assembly votes on “%(title)s”; your ballot counts until "
                 "%(closes)s.", title=title, closes=when(closes))
    if kind == K.VOTE_COUNTED and values.get("applied"):
        return _("The vote on “%(title)s” passed; the decision is applied.", title=title)
    if kind == K.VOTE_COUNTED and values.get("outcome") == "passed":
        return _("The vote on “%(title)s” passed, but its values break a rule of the "
                 "parameters in force now: nothing changes.", title=title)
    if kind == K.VOTE_COUNTED:
        return _("The vote on “%(title)s” did not pass; nothing changes.", title=title)
    if kind == K.FRAUD_REPORTED:
        return _("Your answers in “%(title)s” are reported as fraud; you may answer before "
                 "the board decides.", title=title)
    if kind == K.FRAUD_DECIDED and values.get("upheld"):
        return _("The board upheld the finding of fraud on your answers in “%(title)s”: "
                 "their pay is taken back.", title=title)
    if kind == K.FRAUD_DECIDED:
        return _("The board dismissed the finding of fraud on your answers in “%(title)s”: "
                 "nothing changes.", title=title)
    return kind


def target(subject: str) -> tuple[str, dict]:
    """Return the endpoint and its values for a notification's subject ("task:12", …)."""
    name, _sep, number = subject.partition(":")
    endpoints = {
        "task": ("market.task", "task_id"),
        "project": ("projects.project", "project_id"),
        "vote": ("governance.vote", "vote_id"),
        "fraud_finding": ("fraud.finding", "finding_id"),
    }
    if name in endpoints:
        endpoint, key = endpoints[name]
        return endpoint, {key: int(number)}
    if name == "dispute":
        return "delivery.disputes", {}
    if name == "user":
        return "board.applications", {}
    return "notifications.index", {}


def link(subject: str) -> str:
    endpoint, values = target(subject)
    return url_for(endpoint, **values)
