"""Delivery operations: submit, review, dispute, resolve, auto-accept, and the pages' queries.

Every state change of a delivery, a task or a dispute is a conditional UPDATE inside a write
transaction (``... WHERE id = ? AND state = 'pending'``) whose row count says whether this
caller won: two reviewers, a reviewer and `coop tick`, or two board members never both act.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from peewee import fn

from coop import calendar, money, params
from coop.audit.events import record
from coop.db import write_transaction
from coop.delivery.access import can_see_delivery, visible_deliveries
from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.files import StoredFile
from coop.models import (
    Delivery,
    DeliveryFile,
    DeliveryState,
    Dispute,
    DisputeState,
    Earning,
    Task,
    TaskState,
    User,
    utcnow,
)

CURRENCY = "EUR"
ACTIVE_STATES = (TaskState.ASSIGNED, TaskState.REJECTED, TaskState.DISPUTED)
DELIVERABLE_STATES = (TaskState.ASSIGNED, TaskState.REJECTED)
HISTORY_LIMIT = 50
RESOLVED_LIMIT = 20


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""


def _iso_utc(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def _required_reason(reason: str | None, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, field="reason")
    return reason


# --- submitting -------------------------------------------------------------------------


def submit_delivery(member: User, task_id: int, files: list[StoredFile], note: str) -> Delivery:
    """Deliver files for a task assigned to member (a first delivery or a resubmission)."""
    if not files:
        raise DomainError(_("Attach at least one file."), field="files")
    now = utcnow()
    with write_transaction():
        task = Task.get_or_none(Task.id == task_id)
        if task is None or task.member_id != member.id:
            raise NotFound(_("No such task among yours."))
        if task.state not in DELIVERABLE_STATES:
            raise Conflict(_("This task is not waiting for a delivery."))
        limit = params.current().max_attempts
        if task.attempts >= limit:
            raise DomainError(
                _("You have used all %(limit)s attempts.", limit=limit), field="files"
            )
        # The row count settles a race with a second upload, a release or the deadline sweep.
        changed = (
            Task.update(state=TaskState.DELIVERED, attempts=Task.attempts + 1)
            .where(
                (Task.id == task.id)
                & (Task.member == member.id)
                & (Task.state == task.state)
                & (Task.attempts == task.attempts)
            )
            .execute()
        )
        if not changed:
            raise Conflict(_("This task changed meanwhile; reload the page and try again."))
        delivery = Delivery.create(
            task=task,
            member=member,
            attempt=task.attempts + 1,
            note=(note or "").strip(),
            submitted_at=now,
            on_time=now <= task.deadline,
        )
        for stored in files:
            DeliveryFile.create(
                delivery=delivery,
                filename=stored.filename,
                sha256=stored.sha256,
                size=stored.size,
                content_type=stored.content_type,
            )
        record(
            "delivery.submitted",
            f"delivery:{delivery.id}",
            task=task.id,
            delivery=delivery.id,
            files=[{"sha256": f.sha256, "size": f.size} for f in files],
            member=member.pseudonym,
            deadline=_iso_utc(task.deadline),
            on_time=delivery.on_time,
            attempt=delivery.attempt,
        )
    return delivery


# --- reviewing and completing -------------------------------------------------------------


def _complete(task: Task, delivery: Delivery, from_state: str, now: datetime) -> Earning:
    """Complete the task and credit its member; the one path for every kind of acceptance."""
    changed = (
        Task.update(state=TaskState.COMPLETED, completed_at=now)
        .where((Task.id == task.id) & (Task.state == from_state))
        .execute()
    )
    if not changed:
        raise Conflict(_("This task changed meanwhile; nothing was done."))
    price = task.price_cents or 0
    margin = money.percent_of(price, params.current().margin_bp)
    earning = Earning.create(
        member=delivery.member_id,
        task=task,
        price_cents=price,
        earnings_cents=price - margin,
        margin_cents=margin,
        created_at=now,
    )
    record(
        "task.completed",
        f"task:{task.id}",
        task=task.id,
        delivery=delivery.id,
        price_cents=price,
        earnings_cents=price - margin,
        margin_cents=margin,
        currency=CURRENCY,
        member=delivery.member.pseudonym,
    )
    return earning


def _review(delivery: Delivery, accepted: bool, reason: str, auto: bool, now: datetime) -> None:
    """Decide a pending delivery of a delivered task, inside the caller's transaction."""
    outcome = DeliveryState.ACCEPTED if accepted else DeliveryState.REJECTED
    changed = (
        Delivery.update(state=outcome, review_reason=reason, reviewed_at=now, auto_accepted=auto)
        .where((Delivery.id == delivery.id) & (Delivery.state == DeliveryState.PENDING))
        .execute()
    )
    if not changed:
        raise Conflict(_("This delivery has already been reviewed."))
    task = delivery.task
    if accepted:
        _complete(task, delivery, TaskState.DELIVERED, now)
    else:
        changed = (
            Task.update(state=TaskState.REJECTED)
            .where((Task.id == task.id) & (Task.state == TaskState.DELIVERED))
            .execute()
        )
        if not changed:
            raise Conflict(_("This task is not waiting for a review."))
    record(
        "delivery.reviewed",
        f"delivery:{delivery.id}",
        task=task.id,
        delivery=delivery.id,
        outcome=str(outcome),
        reason_sha256=_sha256_text(reason),
        auto=auto,
    )


def _client_delivery(client: User, delivery_id: int) -> Delivery:
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None or delivery.task.client_id != client.id:
        raise NotFound(_("No such delivery among your tasks."))
    return delivery


def accept_delivery(client: User, delivery_id: int) -> Delivery:
    """Accept a pending delivery: the task completes and its member is paid."""
    with write_transaction():
        delivery = _client_delivery(client, delivery_id)
        _review(delivery, accepted=True, reason="", auto=False, now=utcnow())
    return Delivery.get_by_id(delivery_id)


def reject_delivery(client: User, delivery_id: int, reason: str) -> Delivery:
    """Reject a pending delivery with a reason the member reads; they may resubmit or dispute."""
    reason = _required_reason(reason, _("Say what is wrong so the member can fix it."))
    with write_transaction():
        delivery = _client_delivery(client, delivery_id)
        _review(delivery, accepted=False, reason=reason, auto=False, now=utcnow())
    return Delivery.get_by_id(delivery_id)


def auto_accept_overdue(now: datetime) -> int:
    """Accept every delivery left unreviewed past the review window; return how many."""
    window = timedelta(hours=params.current().review_window_hours)
    overdue = (
        Delivery.select(Delivery.id)
        .join(Task)
        .where(
            (Delivery.state == DeliveryState.PENDING)
            & (Delivery.submitted_at <= now - window)
            & (Task.state == TaskState.DELIVERED)
        )
        .order_by(Delivery.submitted_at)
    )
    accepted = 0
    for delivery_id in [d.id for d in overdue]:
        # One transaction each: a delivery reviewed meanwhile is skipped, the rest go on.
        try:
            with write_transaction():
                delivery = Delivery.get_by_id(delivery_id)
                _review(delivery, accepted=True, reason="", auto=True, now=now)
        except Conflict:
            continue
        accepted += 1
    return accepted


# --- disputes -------------------------------------------------------------------------------


def dispute_rejection(member: User, delivery_id: int, reason: str) -> Dispute:
    """Ask the board to overturn the rejection of member's latest delivery."""
    reason = _required_reason(reason, _("Say why the rejection is wrong."))
    with write_transaction():
        delivery = Delivery.get_or_none(Delivery.id == delivery_id)
        if delivery is None or delivery.member_id != member.id:
            raise NotFound(_("No such delivery among yours."))
        task = delivery.task
        latest = task.member_id == member.id and delivery.attempt == task.attempts
        if delivery.state != DeliveryState.REJECTED or not latest:
            raise Conflict(_("Only the rejection of your latest delivery can be disputed."))
        if (
            Dispute.select()
            .where((Dispute.delivery == delivery.id) & (Dispute.state == DisputeState.OPEN))
            .exists()
        ):
            raise Conflict(_("This rejection is already disputed."))
        changed = (
            Task.update(state=TaskState.DISPUTED)
            .where(
                (Task.id == task.id)
                & (Task.member == member.id)
                & (Task.state == TaskState.REJECTED)
            )
            .execute()
        )
        if not changed:
            raise Conflict(_("This task is no longer waiting for your decision."))
        return Dispute.create(delivery=delivery, task=task, member=member, reason=reason)


def resolve_dispute(board: User, dispute_id: int, *, upheld: bool, reason: str) -> Dispute:
    """Decide an open dispute: upheld pays the member, dismissed reopens the task to others."""
    if not board.is_board:
        raise Forbidden(_("Only the board can resolve disputes."))
    reason = _required_reason(reason, _("Give the reason for the board's decision."))
    now = utcnow()
    outcome = DisputeState.UPHELD if upheld else DisputeState.DISMISSED
    with write_transaction():
        dispute = Dispute.get_or_none(Dispute.id == dispute_id)
        if dispute is None:
            raise NotFound(_("No such dispute."))
        changed = (
            Dispute.update(
                state=outcome, resolution_reason=reason, resolved_by=board, resolved_at=now
            )
            .where((Dispute.id == dispute.id) & (Dispute.state == DisputeState.OPEN))
            .execute()
        )
        if not changed:
            raise Conflict(_("This dispute has already been resolved."))
        delivery, task = dispute.delivery, dispute.task
        if upheld:
            changed = (
                Delivery.update(state=DeliveryState.ACCEPTED, reviewed_at=now)
                .where(
                    (Delivery.id == delivery.id) & (Delivery.state == DeliveryState.REJECTED)
                )
                .execute()
            )
            if not changed:
                raise Conflict(_("This delivery changed meanwhile; nothing was done."))
            _complete(task, delivery, TaskState.DISPUTED, now)
        else:
            # The rejection stands: the task goes back on the board for someone else.
            changed = (
                Task.update(state=TaskState.OPEN, member=None, assigned_at=None, attempts=0)
                .where((Task.id == task.id) & (Task.state == TaskState.DISPUTED))
                .execute()
            )
            if not changed:
                raise Conflict(_("This task changed meanwhile; nothing was done."))
        record(
            "dispute.resolved",
            f"dispute:{dispute.id}",
            dispute=dispute.id,
            task=task.id,
            delivery=delivery.id,
            outcome=str(outcome),
            reason_sha256=_sha256_text(reason),
        )
    return Dispute.get_by_id(dispute_id)


# --- reading --------------------------------------------------------------------------------


def deliveries_for(viewer: User, task: Task) -> list[Delivery]:
    """Return the task's deliveries viewer may see, by attempt (for the task page)."""
    return list(visible_deliveries(viewer, task).order_by(Delivery.attempt, Delivery.id))


def deliverable_file(viewer: User, delivery_id: int, file_id: int) -> DeliveryFile:
    """Return a delivered file if viewer may download it; NotFound otherwise (no leak)."""
    stored = (
        DeliveryFile.select(DeliveryFile, Delivery)
        .join(Delivery)
        .where((DeliveryFile.id == file_id) & (Delivery.id == delivery_id))
        .first()
    )
    if stored is None or not can_see_delivery(viewer, stored.delivery):
        raise NotFound(_("No such file, or not yours to see."))
    return stored


@dataclass(frozen=True)
class DeliveryItem:
    """One delivery as shown on a page: its files, its dispute, and what the viewer may do."""

    delivery: Delivery
    files: list[DeliveryFile]
    dispute: Dispute | None
    auto_accept_at: datetime | None
    can_review: bool = False
    can_dispute: bool = False


@dataclass(frozen=True)
class TaskPanel:
    """What the delivery panel of a task page shows to one viewer."""

    items: list[DeliveryItem]
    can_deliver: bool
    attempts_left: int
    max_attempts: int
    is_client: bool
    is_member: bool


def _items(deliveries: list[Delivery], window: timedelta) -> list[DeliveryItem]:
    ids = [d.id for d in deliveries]
    files: dict[int, list[DeliveryFile]] = {i: [] for i in ids}
    disputes: dict[int, Dispute] = {}
    if ids:
        for f in DeliveryFile.select().where(DeliveryFile.delivery.in_(ids)).order_by(
            DeliveryFile.id
        ):
            files[f.delivery_id].append(f)
        for d in Dispute.select().where(Dispute.delivery.in_(ids)).order_by(Dispute.id):
            disputes[d.delivery_id] = d  # the latest one wins
    return [
        DeliveryItem(
            delivery=d,
            files=files[d.id],
            dispute=disputes.get(d.id),
            auto_accept_at=d.submitted_at + window if d.state == DeliveryState.PENDING else None,
        )
        for d in deliveries
    ]


def task_panel(viewer: User, task: Task, deliveries: list[Delivery]) -> TaskPanel:
    """Return the delivery panel for viewer on task, from the deliveries the page shows."""
    current = params.current()
    authenticated = getattr(viewer, "is_authenticated", False)
    is_client = authenticated and task.client_id == viewer.id
    is_member = authenticated and task.member_id == viewer.id
    visible = [d for d in deliveries if d.task_id == task.id and can_see_delivery(viewer, d)]
    items = []
    for item in _items(visible, timedelta(hours=current.review_window_hours)):
        d = item.delivery
        latest = d.attempt == task.attempts and d.member_id == task.member_id
        can_review = is_client and d.state == DeliveryState.PENDING and (
            task.state == TaskState.DELIVERED
        )
        can_dispute = (
            is_member
            and d.member_id == viewer.id
            and latest
            and d.state == DeliveryState.REJECTED
            and task.state == TaskState.REJECTED
        )
        items.append(
            DeliveryItem(
                d, item.files, item.dispute, item.auto_accept_at, can_review, can_dispute
            )
        )
    attempts_left = max(current.max_attempts - task.attempts, 0)
    can_deliver = is_member and task.state in DELIVERABLE_STATES and attempts_left > 0
    return TaskPanel(items, can_deliver, attempts_left, current.max_attempts, is_client, is_member)


@dataclass(frozen=True)
class WaitingItem:
    task: Task
    delivery: Delivery
    auto_accept_at: datetime


@dataclass(frozen=True)
class HistoryItem:
    task: Task
    earning: Earning


@dataclass(frozen=True)
class MyWork:
    """A member's work: active tasks, deliveries waiting for review, history, month earnings."""

    active: list[Task] = field(default_factory=list)
    waiting: list[WaitingItem] = field(default_factory=list)
    history: list[HistoryItem] = field(default_factory=list)
    earnings_this_month_cents: int = 0
    month_start: datetime | None = None


def my_work(member: User, now: datetime | None = None) -> MyWork:
    """Return member's work page: what to do, what waits for review, what was paid."""
    now = now or utcnow()
    window = timedelta(hours=params.current().review_window_hours)
    active = list(
        Task.select()
        .where((Task.member == member.id) & (Task.state.in_(ACTIVE_STATES)))
        .order_by(Task.deadline, Task.id)
    )
    waiting = [
        WaitingItem(d.task, d, d.submitted_at + window)
        for d in Delivery.select(Delivery, Task)
        .join(Task)
        .where(
            (Delivery.member == member.id)
            & (Delivery.state == DeliveryState.PENDING)
            & (Task.state == TaskState.DELIVERED)
        )
        .order_by(Delivery.submitted_at)
    ]
    history = [
        HistoryItem(e.task, e)
        for e in Earning.select(Earning, Task)
        .join(Task)
        .where(Earning.member == member.id)
        .order_by(Earning.created_at.desc(), Earning.id.desc())
        .limit(HISTORY_LIMIT)
    ]
    month_start = calendar.month(now).start
    month_total = (
        Earning.select(fn.COALESCE(fn.SUM(Earning.earnings_cents), 0))
        .where((Earning.member == member.id) & (Earning.created_at >= month_start))
        .scalar()
    )
    return MyWork(active, waiting, history, int(month_total or 0), month_start)


@dataclass(frozen=True)
class DisputesOverview:
    """The board's disputes page: open disputes first, then the latest resolved ones."""

    open: list[tuple[Dispute, DeliveryItem]]
    resolved: list[tuple[Dispute, DeliveryItem]]


def disputes_overview() -> DisputesOverview:
    """Return open disputes (oldest first) and recently resolved ones, with their deliveries."""
    window = timedelta(hours=params.current().review_window_hours)

    def with_items(query) -> list[tuple[Dispute, DeliveryItem]]:
        disputes = list(query)
        items = _items([d.delivery for d in disputes], window)
        return list(zip(disputes, items, strict=True))

    base = Dispute.select(Dispute, Delivery, Task).join(Delivery).switch(Dispute).join(Task)
    return DisputesOverview(
        open=with_items(
            base.where(Dispute.state == DisputeState.OPEN).order_by(Dispute.created_at)
        ),
        resolved=with_items(
            base.where(Dispute.state != DisputeState.OPEN)
            .order_by(Dispute.resolved_at.desc())
            .limit(RESOLVED_LIMIT)
        ),
    )
