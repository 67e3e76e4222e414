"""What members take home from tasks and bids, for the board, task pages and "My bids".

The pay floor is the member's net hourly pay, so what pages show members is net of the coop's
margin: the margin fixed on the task when it was taken, else the one in force now.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from coop.models import Bid, BidState, Pricing, Task, User
from coop.money import net_of, net_per_hour


class Basis(StrEnum):
    """Which amount the net pay is computed from."""

    PRICE = "price"  # a fixed price, or the bid a client awarded
    BID = "bid"  # the viewer's own live bid on an open bid task
    BUDGET = "budget"  # an open bid task's budget: the most a bid can earn


@dataclass(frozen=True)
class NetPay:
    """A member's pay for a task after the coop's margin: in all and per estimated hour."""

    gross_cents: int
    net_cents: int
    net_per_hour_cents: int
    margin_bp: int
    basis: Basis


def net_pay(task: Task, margin_bp: int, bid_cents: int | None = None) -> NetPay:
    """Return what the member nets from task: from its price, else from bid_cents (the
    viewer's own bid), else from its budget (an upper bound).

    margin_bp is the margin in force; a task taken already keeps the one fixed on it.
    """
    if task.margin_bp is not None:
        margin_bp = task.margin_bp
    if task.price_cents is not None:
        gross, basis = task.price_cents, Basis.PRICE
    elif bid_cents is not None:
        gross, basis = bid_cents, Basis.BID
    else:
        gross, basis = task.budget_cents or 0, Basis.BUDGET
    net = net_of(gross, margin_bp)
    return NetPay(gross, net, net_per_hour(net, task.estimated_minutes), margin_bp, basis)


def live_bids_of(member: User, task_ids: Iterable[int]) -> dict[int, int]:
    """Return {task id: amount} of member's live bids on these tasks (one query)."""
    task_ids = list(task_ids)
    if not task_ids or not member.is_member:
        return {}
    rows = (
        Bid.select(Bid.task, Bid.amount_cents)
        .where((Bid.member == member.id) & (Bid.state == BidState.LIVE)
               & Bid.task.in_(task_ids))
        .tuples()
    )
    return {task_id: amount for task_id, amount in rows}


def board_net_pay(viewer: User, tasks: list[Task], margin_bp: int) -> dict[int, NetPay]:
    """Return {task id: NetPay} for a board page, bid tasks from the viewer's own bids."""
    bids = live_bids_of(viewer, [t.id for t in tasks if t.pricing == Pricing.BIDS])
    return {t.id: net_pay(t, margin_bp, bids.get(t.id)) for t in tasks}


def bid_net_pay(bid: Bid, margin_bp: int) -> NetPay:
    """Return what a bid would net its member (or nets, once awarded at the task's margin)."""
    margin = bid.task.margin_bp if bid.task.margin_bp is not None else margin_bp
    net = net_of(bid.amount_cents, margin)
    return NetPay(bid.amount_cents, net, net_per_hour(net, bid.task.estimated_minutes), margin,
                  Basis.BID)
