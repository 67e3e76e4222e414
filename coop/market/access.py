"""Who may see a task, and what of it: one rule for the task page, the API and the ledger.

- A task's *parties* are its client, the board, and every member who holds or held it (took
  it, had it awarded, or delivered on it). The API lists exactly a user's parties' tasks.
- The task page is open to its parties, and to members while the task is open or when they
  bid on it.
- The holder's pseudonym is shown to the client, the board and the holder only: a former
  holder does not learn who took the task over.
- A ledger entry about a task concerns the task's client and the member it names.
"""

import json

from peewee import Expression

from coop.models import Bid, Delivery, Event, Task, TaskState, User


def _signed_in(user: User | None) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def held_by(member: User) -> Expression:
    """Return the condition "member holds or held the task": assigned, delivered or awarded."""
    delivered = Delivery.select(Delivery.task).where(Delivery.member == member.id)
    # Awards name the member by pseudonym in the event's canonical JSON; LIKE narrows, the
    # payload check decides (ILIKE on PostgreSQL ignores case, pseudonyms do not).
    needle = '"member":' + json.dumps(member.pseudonym)
    awards = Event.select(Event.subject, Event.data).where(
        (Event.kind == "task.awarded") & Event.data.contains(needle)
    )
    awarded = [
        int(event.subject.partition(":")[2])
        for event in awards
        if event.payload.get("member") == member.pseudonym
    ]
    return (Task.member == member.id) | Task.id.in_(delivered) | Task.id.in_(awarded)


def tasks_of(user: User):
    """Return a query of the tasks user is a party to (every task for the board)."""
    query = Task.select()
    if user.is_board:
        return query
    if user.is_client:
        return query.where(Task.client == user.id)
    return query.where(held_by(user))


def is_party(user: User | None, task: Task) -> bool:
    """Return whether user is task's client, the board, or a member who holds or held it."""
    if not _signed_in(user):
        return False
    if user.is_board or task.client_id == user.id or task.member_id == user.id:
        return True
    return user.is_member and tasks_of(user).where(Task.id == task.id).exists()


def can_see_task(user: User | None, task: Task) -> bool:
    """Return whether user may see the task's page."""
    if not _signed_in(user):
        return False
    if user.is_member and task.state == TaskState.OPEN:
        return True
    if is_party(user, task):
        return True
    return user.is_member and Bid.select().where(
        (Bid.task == task.id) & (Bid.member == user.id)
    ).exists()


def content_hidden(user: User, task: Task) -> bool:
    """Hide a sensitive task's content from members who did not opt in (and are not on it)."""
    if not task.sensitive or user.sensitive_opt_in:
        return False
    return task.client_id != user.id and not user.is_board and task.member_id != user.id


def holder_pseudonyms_for(user: User, tasks: list[Task]) -> dict[int, str]:
    """Return {task id: the holder's pseudonym} for the tasks whose holder user may know."""
    shown = {
        task.id: task.member_id
        for task in tasks
        if task.member_id is not None
        and (user.is_board or user.id in (task.client_id, task.member_id))
    }
    if not shown:
        return {}
    names = dict(
        User.select(User.id, User.pseudonym).where(User.id.in_(set(shown.values()))).tuples()
    )
    return {task_id: names[member_id] for task_id, member_id in shown.items()}


def holder_pseudonym_for(user: User, task: Task) -> str | None:
    """Return the pseudonym of the member holding task, if user may know it."""
    return holder_pseudonyms_for(user, [task]).get(task.id)


def can_see_task_entry(user: User, task: Task | None, payload: dict) -> bool:
    """Return whether user may read a ledger entry about task (the board's rule is elsewhere)."""
    if task is None:
        return False
    if task.client_id == user.id:
        return True
    return "member" in payload and payload["member"] == user.pseudonym


__all__ = [
    "can_see_task",
    "can_see_task_entry",
    "content_hidden",
    "held_by",
    "holder_pseudonym_for",
    "holder_pseudonyms_for",
    "is_party",
    "tasks_of",
]
