"""Rating a client: the member who completed a task, once for that task."""

import peewee
from flask_babel import gettext as _

from coop.db import write_transaction
from coop.errors import Conflict, DomainError, NotFound
from coop.models import ClientRating, Task, TaskState, User

MIN_STARS = 1
MAX_STARS = 5
MAX_COMMENT = 300


def may_rate(member: User, task: Task) -> bool:
    """Tell whether member completed task for its client and has not rated it yet."""
    return (
        task.member_id == member.id
        and task.state == TaskState.COMPLETED
        and not ClientRating.select().where(ClientRating.task == task.id).exists()
    )


def rate_client(member: User, task: Task, stars: int, comment: str = "") -> ClientRating:
    """Record member's rating of task's client (1 to 5 stars, a short comment).

    :raises NotFound: the task is not one member worked on.
    :raises DomainError: the task is not completed yet, or the stars or comment are out of range.
    :raises Conflict: the member already rated the client for this task.
    """
    if task.member_id != member.id:
        raise NotFound(_("No such task among yours."))
    if task.state != TaskState.COMPLETED:
        raise DomainError(_("You can rate the client once the task is completed."))
    if not isinstance(stars, int) or not MIN_STARS <= stars <= MAX_STARS:
        raise DomainError(
            _("Choose from %(min)s to %(max)s stars.", min=MIN_STARS, max=MAX_STARS), "stars"
        )
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(
            _("Keep the comment to %(max)s characters.", max=MAX_COMMENT), "comment"
        )
    try:
        with write_transaction():
            return ClientRating.create(
                task=task.id, member=member.id, client=task.client_id, stars=stars,
                comment=comment,
            )
    except peewee.IntegrityError:
        # The one rating per task (a unique index) is there already, maybe from another tab.
        raise Conflict(_("You already rated the client for this task.")) from None
