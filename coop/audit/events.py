"""The one place where operations record auditable events, inside their own transaction.

Every operation that changes something a client, a member or the board may later need to
prove (a task awarded, a delivery submitted or reviewed, a task completed, a dispute resolved,
a member admitted, an account disabled or enabled, parameters changed, a month closed, a
statement issued) calls `record` before its transaction commits, so the change and its record
are both kept or both lost. Once that transaction commits, a checkpoint covering the entry is
published.
"""

import json

from peewee import fn

from coop.audit.ledger import get_ledger, publish_after_commit
from coop.models import Event
from coop.ops import APPEND_SECONDS


def record(kind: str, subject: str, **data) -> Event:
    """Append an event about subject ("task:12") to the ledger and index it, in one transaction.

    data holds opaque ids, pseudonyms, amounts in cents and SHA-256 hashes only. If the append
    fails, the exception rolls back the caller's transaction: no change without its entry.
    """
    with APPEND_SECONDS.time():
        entry = get_ledger().append(kind, dict(data, subject=subject))
    publish_after_commit()
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
    event = Event.create(
        kind=kind,
        subject=subject,
        data=payload,
        unix_ns=entry.time.unix_ns,
        ledger_index=entry.index,
    )
    event.entry = entry  # the appended entry, for callers that keep its time's uncertainty
    return event


def events_for(subject: str) -> list[Event]:
    """Return the events recorded about a subject, oldest first."""
    return list(Event.select().where(Event.subject == subject).order_by(Event.id))


def completion_times(start_ns: int, end_ns: int) -> list[tuple[int, int | None, int]]:
    """Return (task id, ledger index, unix_ns) of tasks completed in [start_ns, end_ns)."""
    rows = (
        Event.select(Event.subject, Event.ledger_index, Event.unix_ns)
        .where(
            (Event.kind == "task.completed")
            & (Event.unix_ns >= start_ns)
            & (Event.unix_ns < end_ns)
        )
        .order_by(Event.unix_ns)
    )
    return [(int(r.subject.split(":")[1]), r.ledger_index, r.unix_ns) for r in rows]


def first_completion_ns() -> int | None:
    """Return the ledger time of the first task ever completed, or None."""
    return Event.select(fn.MIN(Event.unix_ns)).where(Event.kind == "task.completed").scalar()
