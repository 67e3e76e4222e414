"""Who may see which ledger entry: the board sees all; others see what concerns them."""

from coop.delivery.operations import can_see_delivery
from coop.models import Delivery, Dispute, Event, Task, User


def _task_party(actor: User, task: Task | None) -> bool:
    return task is not None and actor.id in (task.client_id, task.member_id)


def can_see_event(actor: User | None, event: Event) -> bool:
    """Return whether actor may read the entry behind event."""
    if actor is None:
        return False
    if actor.is_board:
        return True
    kind, _, ident = event.subject.partition(":")
    if not ident.isdigit():
        return False  # parameters, periods: the board's records
    ident = int(ident)
    if kind == "task":
        return _task_party(actor, Task.get_or_none(Task.id == ident))
    if kind == "delivery":
        delivery = Delivery.get_or_none(Delivery.id == ident)
        return delivery is not None and can_see_delivery(actor, delivery)
    if kind == "dispute":
        dispute = Dispute.get_or_none(Dispute.id == ident)
        return dispute is not None and (
            dispute.member_id == actor.id or dispute.task.client_id == actor.id
        )
    if kind == "user":
        return ident == actor.id
    if kind == "statement":
        return event.payload.get("member") == actor.pseudonym
    return False

