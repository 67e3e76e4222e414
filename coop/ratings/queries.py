"""Reads of client ratings for the pages: what each role may see of them.

The board reads every rating with its comment and its member; members and the client see only
an average, and only once MIN_SHOWN ratings exist, so that no single member's rating can be
told from the figure.
"""

from dataclasses import dataclass
from datetime import datetime

import peewee

from coop.models import ClientRating, Role, Task, User

MIN_SHOWN = 3
PER_PAGE = 20


@dataclass(frozen=True)
class Summary:
    count: int
    average: float | None  # None below MIN_SHOWN ratings: the figure is withheld


@dataclass(frozen=True)
class Line:
    """A rating as the board reads it."""

    stars: int
    comment: str
    task_id: int
    task_title: str
    member_pseudonym: str
    created_at: datetime


@dataclass(frozen=True)
class BoardView:
    client_name: str
    count: int
    average: float | None  # the board sees it from the first rating
    lines: list[Line]
    page: int
    has_next: bool


def _count_and_average(client_id: int) -> tuple[int, float | None]:
    count, average = (
        ClientRating.select(peewee.fn.COUNT(ClientRating.id), peewee.fn.AVG(ClientRating.stars))
        .where(ClientRating.client == client_id)
        .tuples()
        .get()
    )
    return int(count), (round(float(average), 1) if count else None)


def summary(client_id: int) -> Summary:
    """Return how many ratings the client has, with their average once there are enough."""
    count, average = _count_and_average(client_id)
    return Summary(count, average if count >= MIN_SHOWN else None)


def rating_of_task(task_id: int) -> ClientRating | None:
    """Return the rating given for this task, if any (shown to the member who gave it)."""
    return ClientRating.get_or_none(ClientRating.task == task_id)


def for_board(client: User, page: int, per_page: int = PER_PAGE) -> BoardView:
    """Return one page of the client's ratings, newest first, for the board."""
    count, average = _count_and_average(client.id)
    rows = list(
        ClientRating.select(ClientRating, Task.id, Task.title, User.pseudonym)
        .join(Task, on=(ClientRating.task == Task.id))
        .switch(ClientRating)
        .join(User, on=(ClientRating.member == User.id))
        .where(ClientRating.client == client.id)
        .order_by(ClientRating.created_at.desc(), ClientRating.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    lines = [
        Line(r.stars, r.comment, r.task.id, r.task.title, r.member.pseudonym, r.created_at)
        for r in rows[:per_page]
    ]
    return BoardView(client.name, count, average, lines, page, len(rows) > per_page)


@dataclass(frozen=True)
class ClientLine:
    id: int
    name: str
    count: int
    average: float | None


@dataclass(frozen=True)
class ClientsPage:
    lines: list[ClientLine]
    page: int
    has_next: bool


def clients_for_board(page: int, per_page: int = PER_PAGE) -> ClientsPage:
    """Return one page of clients with their ratings' count and average, most rated first."""
    count = peewee.fn.COUNT(ClientRating.id)
    rows = list(
        User.select(User.id, User.name, count, peewee.fn.AVG(ClientRating.stars))
        .join(ClientRating, peewee.JOIN.LEFT_OUTER, on=(ClientRating.client == User.id))
        .where(User.role == Role.CLIENT)
        .group_by(User.id, User.name)
        .order_by(count.desc(), User.name, User.id)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
        .tuples()
    )
    lines = [
        ClientLine(i, name, int(n), round(float(avg), 1) if n else None)
        for i, name, n, avg in rows[:per_page]
    ]
    return ClientsPage(lines, page, len(rows) > per_page)
