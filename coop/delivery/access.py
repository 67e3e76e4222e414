"""Who may see a delivery and a dispute: one rule for the task page, the API and the ledger.

A delivery (its files, its review, its ledger entries) concerns the task's client, the member
who delivered it, and the board; a dispute concerns the disputing member, the task's client and
the board. A member who takes a task over does not see the previous holder's deliveries.
"""

from coop.models import Delivery, Dispute, Task, User


def _signed_in(user: User | None) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_see_delivery(user: User | None, delivery: Delivery) -> bool:
    """Return whether user is the task's client, the member who delivered, or the board."""
    if not _signed_in(user):
        return False
    return user.is_board or delivery.member_id == user.id or delivery.task.client_id == user.id


def visible_deliveries(user: User | None, task: Task):
    """Return a query of the task's deliveries user may see (can_see_delivery as SQL)."""
    query = Delivery.select().where(Delivery.task == task.id)
    if not _signed_in(user):
        return query.where(Delivery.id < 0)  # ids are positive: nothing
    if user.is_board or task.client_id == user.id:
        return query
    return query.where(Delivery.member == user.id)


def can_see_dispute(user: User | None, dispute: Dispute) -> bool:
    """Return whether user raised the dispute, is the task's client, or is the board."""
    if not _signed_in(user):
        return False
    return user.is_board or dispute.member_id == user.id or dispute.task.client_id == user.id


__all__ = ["can_see_delivery", "can_see_dispute", "visible_deliveries"]
