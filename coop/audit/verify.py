"""Verify the live ledger, then that the app's tables say what the ledger says.

The ledger checks itself (chain, leaves, stored hashes, checkpoints). A row edited by hand,
bypassing the operations, breaks the second part: every event row must equal its entry, every
earning, delivered file and decided delivery must have the entry that records it, and every
such entry must still match its row.
"""

import json
from collections import defaultdict

from coop.audit.ledger import get_ledger, verifiers
from coop.models import Delivery, DeliveryFile, DeliveryState, Earning, Event, Task, TaskState
from ledger.entry import decode_entry
from ledger.verify import LedgerTampered


def _check_events(size: int) -> dict[tuple[str, str], list[Event]]:
    """Check each event row against its entry; return the events by (kind, subject)."""
    ledger = get_ledger()
    by_subject = defaultdict(list)
    for event in Event.select().order_by(Event.ledger_index):
        # Rows edited in the database's shell may hold any type (SQLite): say so, never crash.
        index = event.ledger_index
        if not isinstance(index, int) or not 0 <= index < size:
            raise LedgerTampered(-1, f"event {event.id} points at no entry")
        entry = decode_entry(ledger.entry_bytes(index))
        try:
            data = json.loads(event.data)
        except (TypeError, ValueError):
            data = None
        recorded = dict(data, subject=event.subject) if isinstance(data, dict) else None
        if entry.kind != event.kind or dict(entry.data) != recorded:
            raise LedgerTampered(
                event.ledger_index, f"the app's record of event {event.id} differs from the entry"
            )
        if entry.time.unix_ns != event.unix_ns:
            raise LedgerTampered(event.ledger_index, f"event {event.id} has another time")
        by_subject[(event.kind, event.subject)].append(event)
    return by_subject


def _only(events, kind, subject, what) -> Event:
    found = events.get((kind, subject))
    if not found:
        raise LedgerTampered(-1, f"{what} has no {kind} entry")
    return found[-1]


def _check_earnings(events) -> None:
    for earning in Earning.select(Earning, Task).join(Task):
        subject = f"task:{earning.task_id}"
        event = _only(events, "task.completed", subject, f"task {earning.task_id}")
        data = event.payload
        expected = (earning.price_cents, earning.earnings_cents, earning.margin_cents)
        if (data["price_cents"], data["earnings_cents"], data["margin_cents"]) != expected:
            raise LedgerTampered(
                event.ledger_index, f"earning of task {earning.task_id} differs from the entry"
            )
    completed = Task.select(Task.id).where(Task.state == TaskState.COMPLETED)
    paid = {e.task_id for e in Earning.select(Earning.task)}
    for task in completed:
        _only(events, "task.completed", f"task:{task.id}", f"completed task {task.id}")
        if task.id not in paid:
            raise LedgerTampered(-1, f"completed task {task.id} has no earning row")


def _check_deliveries(events) -> None:
    files = defaultdict(list)
    for f in DeliveryFile.select():
        files[f.delivery_id].append({"sha256": f.sha256, "size": f.size})
    # What the ledger says each delivery became: reviews, and disputes the board decided.
    outcomes = defaultdict(set)
    for (kind, _subject), evs in events.items():
        for e in evs:
            if kind == "delivery.reviewed":
                outcomes[e.payload["delivery"]].add(e.payload["outcome"])
            elif kind == "dispute.resolved":
                upheld = e.payload["outcome"] == "upheld"
                outcomes[e.payload["delivery"]].add("accepted" if upheld else "rejected")
            elif kind == "rejection.held":
                outcomes[e.payload["delivery"]].add("rejection_review")
            elif kind == "rejection.decided":
                confirmed = e.payload["outcome"] == "confirmed"
                outcomes[e.payload["delivery"]].add("rejected" if confirmed else "accepted")
    for delivery in Delivery.select():
        subject = f"delivery:{delivery.id}"
        event = _only(events, "delivery.submitted", subject, f"delivery {delivery.id}")
        recorded = sorted(event.payload["files"], key=lambda f: (f["sha256"], f["size"]))
        stored = sorted(files[delivery.id], key=lambda f: (f["sha256"], f["size"]))
        if recorded != stored:
            raise LedgerTampered(
                event.ledger_index, f"files of delivery {delivery.id} differ from the entry"
            )
        if delivery.state != DeliveryState.PENDING:
            if str(delivery.state) not in outcomes[delivery.id]:
                raise LedgerTampered(
                    event.ledger_index,
                    f"delivery {delivery.id} is {delivery.state} but no entry says so",
                )


def verify_live() -> int:
    """Check the ledger, then the app's tables against it; return the ledger's size.

    :raises LedgerTampered: naming the first bad index (-1 when a row has no entry) and why.
    """
    size = get_ledger().verify(verifiers())
    events = _check_events(size)
    _check_earnings(events)
    _check_deliveries(events)
    return size
