"""Who may read which ledger entry: the board reads all; others what concerns them.

Each concept's rule decides for its entries (coop/market/access.py for tasks,
coop/delivery/access.py for deliveries and disputes), so the ledger, the pages and the API
agree. Entries about parameters and periods are the board's records.
"""

from coop.delivery.access import can_see_delivery, can_see_dispute
from coop.governance.access import can_see_vote
from coop.market.access import can_see_task_entry
from coop.models import Delivery, Dispute, Event, Task, User


def visible_event(user: User | None, event: Event) -> bool:
    """Return whether user may read the entry behind event."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_board:
        return True
    kind, _, ident = event.subject.partition(":")
    if not ident.isascii() or not ident.isdigit():
        return False  # parameters, periods: the board's records
    ident = int(ident)
    if kind == "task":
        return can_see_task_entry(user, Task.get_or_none(Task.id == ident), event.payload)
    if kind == "delivery":
        delivery = Delivery.get_or_none(Delivery.id == ident)
        return delivery is not None and can_see_delivery(user, delivery)
    if kind == "dispute":
        dispute = Dispute.get_or_none(Dispute.id == ident)
        return dispute is not None and can_see_dispute(user, dispute)
    if kind == "user":
        return ident == user.id
    if kind == "vote":
        return can_see_vote(user)  # the assembly's records are every member's
    if kind == "statement":
        return event.payload.get("member") == user.pseudonym
    return False

