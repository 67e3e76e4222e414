"""The client dashboard and "My bids" reads, a page at a time.

Both lists grow for as long as a person uses the coop, so each page reads PER_PAGE rows (and
one more, to know whether a next page exists) rather than everything.
"""

from dataclasses import dataclass

import peewee

from coop.models import Bid, BidState, Delivery, DeliveryState, Task, TaskState, User
from coop.ratings import queries as rating_queries

PER_PAGE = 20
# The dashboard's two "waiting for you" lists show this many; the rest are one click away
# (the Delivered and Open lists).
WAITING_SHOWN = 10


@dataclass(frozen=True)
class ClientDashboard:
    counts: dict  # state -> number of the client's tasks in it
    state: str  # the state listed ("": every state)
    tasks: list  # one page of the client's tasks, newest first
    page: int
    has_next: bool
    awaiting_award: list  # (Task, number of live bids), at most WAITING_SHOWN
    more_awaiting_award: bool
    awaiting_review: list  # Delivery with its task, oldest first, at most WAITING_SHOWN
    more_awaiting_review: bool
    rating: rating_queries.Summary  # members' ratings of this client (average withheld below 3)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def first_rows(query, n: int) -> tuple[list, bool]:
    """Return the query's first n rows and whether more follow (reading one row more)."""
    rows = list(query.limit(n + 1))
    return rows[:n], len(rows) > n


def client_dashboard(client: User, state: str, page: int, per_page: int = PER_PAGE):
    """Return the client's dashboard: counts by state, a page of tasks, what waits for them."""
    counts = dict(
        Task.select(Task.state, peewee.fn.COUNT(Task.id))
        .where(Task.client == client.id)
        .group_by(Task.state)
        .tuples()
    )
    where = Task.client == client.id
    if state:
        where &= Task.state == state
    tasks, has_next = first_rows(
        Task.select().where(where).order_by(Task.id.desc()).offset((page - 1) * per_page),
        per_page,
    )
    live = peewee.fn.COUNT(Bid.id)
    awaiting_award, more_award = first_rows(
        Task.select(Task, live.alias("live_bids"))
        .join(Bid, on=(Bid.task == Task.id))
        .where(
            (Task.client == client.id)
            & (Task.state == TaskState.OPEN)
            & (Bid.state == BidState.LIVE)
        )
        .group_by(Task.id)
        .order_by(Task.id.desc()),
        WAITING_SHOWN,
    )
    awaiting_review, more_review = first_rows(
        Delivery.select(Delivery, Task)
        .join(Task)
        .where((Task.client == client.id) & (Delivery.state == DeliveryState.PENDING))
        .order_by(Delivery.submitted_at, Delivery.id),
        WAITING_SHOWN,
    )
    return ClientDashboard(
        counts=counts,
        state=state,
        tasks=tasks,
        page=page,
        has_next=has_next,
        awaiting_award=[(t, t.live_bids) for t in awaiting_award],
        more_awaiting_award=more_award,
        awaiting_review=awaiting_review,
        more_awaiting_review=more_review,
        rating=rating_queries.summary(client.id),
    )


@dataclass(frozen=True)
class BidsPage:
    bids: list
    page: int
    has_next: bool


def bids_of(member: User, page: int, per_page: int = PER_PAGE) -> BidsPage:
    """Return one page of the member's bids, newest first, with their tasks."""
    bids, has_next = first_rows(
        Bid.select(Bid, Task.id, Task.title, Task.state, Task.budget_cents, Task.bidding_deadline,
                   Task.estimated_minutes, Task.margin_bp)
        .join(Task)
        .where(Bid.member == member.id)
        .order_by(Bid.updated_at.desc(), Bid.id.desc())
        .offset((page - 1) * per_page),
        per_page,
    )
    return BidsPage(bids, page, has_next)
