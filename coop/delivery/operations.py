"""Delivery operations: submit, review, dispute, resolve, auto-accept, and the pages' queries.

Every state change of a delivery, a task or a dispute is a conditional UPDATE inside a write
transaction (``... WHERE id = ? AND state = 'pending'``) whose row count says whether this
caller won: two reviewers, a reviewer and `coop tick`, or two board members never both act.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from peewee import Case, fn

from coop import calendar, money, params
from coop.audit.events import record
from coop.db import write_transaction
from coop.delivery.access import can_see_delivery, visible_deliveries
from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.files import StoredFile
from coop.market.operations import CapUsage, cap_usage
from coop.models import (
    Delivery,
    DeliveryFile,
    DeliveryState,
    Dispute,
    DisputeKind,
    DisputeState,
    Earning,
    MemberStatus,
    NotificationKind,
    RejectionCategory,
    RejectionReview,
    RejectionReviewState,
    Role,
    Task,
    TaskState,
    User,
    utcnow,
)
from coop.notifications.operations import notify

CURRENCY = "EUR"
ACTIVE_STATES = (TaskState.ASSIGNED, TaskState.REJECTED, TaskState.DISPUTED)
DELIVERABLE_STATES = (TaskState.ASSIGNED, TaskState.REJECTED)
HISTORY_LIMIT = 50
RESOLVED_LIMIT = 20
# A rejection tells the member what to fix: at least this many characters, and more than a
# few different letters or digits (".", "no" or "aaaaaaaaaaaaaaaaaaaaaa" say nothing).
MIN_REJECTION_REASON = 20
MIN_DISTINCT_CHARACTERS = 6
# The time a member states with a delivery: whole minutes, at most about a week of full days.
MIN_MINUTES_SPENT = 1
MAX_MINUTES_SPENT = 10_000


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""


def _iso_utc(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def _required_reason(reason: str | None, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, field="reason")
    return reason


def _rejection_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    distinct = {c.casefold() for c in reason if c.isalnum()}
    if len(reason) < MIN_REJECTION_REASON or len(distinct) < MIN_DISTINCT_CHARACTERS:
        raise DomainError(
            _(
                "Say what is wrong in at least %(n)s characters of words, so the member can "
                "fix it.",
                n=MIN_REJECTION_REASON,
            ),
            field="reason",
        )
    return reason


def _rejection_category(category) -> RejectionCategory:
    try:
        return RejectionCategory(category)
    except ValueError:
        raise DomainError(
            _("Choose what kind of problem it is: incomplete, wrong, late or other."),
            field="category",
        ) from None


def is_party(user: User, task: Task, delivery: Delivery) -> bool:
    """Return whether user is the task's client or the member who delivered (or holds) it."""
    return user.id in (task.client_id, task.member_id, delivery.member_id)


def _eligible_board(task: Task, delivery: Delivery) -> list[int]:
    """Return the active board members who may decide about this delivery (no party)."""
    parties = {task.client_id, task.member_id, delivery.member_id}
    board = User.select(User.id).where(
        (User.role == Role.BOARD) & (User.member_status == MemberStatus.ACTIVE)
    )
    return [u.id for u in board if u.id not in parties]


def _require_impartial(board: User, task: Task, delivery: Delivery) -> None:
    if not board.is_board:
        raise Forbidden(_("Only the board can decide this."))
    if is_party(board, task, delivery):
        raise Forbidden(
            _(
                "You are a party to this task (its client or the member who did the work): "
                "another board member must decide."
            )
        )


# --- submitting -------------------------------------------------------------------------


def _net_pay(task: Task) -> int:
    """Return what the member nets from the task's price, at the margin fixed when taken."""
    price = task.price_cents or 0
    # Tasks taken before m0011 have no margin of their own: the one in force applies.
    margin_bp = task.margin_bp if task.margin_bp is not None else params.current().margin_bp
    return price - money.percent_of(price, margin_bp)


def stated_time_topup(task: Task, minutes_spent: int | None) -> int:
    """Return the cents that lift the member's net pay over minutes_spent to the pay floor.

    0 when the net pay meets the floor per hour on the stated time (or no time is stated).
    """
    if not minutes_spent:
        return 0
    needed = money.minimum_price(params.current().pay_floor_cents_per_hour, minutes_spent)
    return max(needed - _net_pay(task), 0)


def implied_cents_per_hour(task: Task, minutes_spent: int | None) -> int | None:
    """Return the member's net pay per hour over the stated minutes (None if none stated)."""
    if not minutes_spent:
        return None
    return _net_pay(task) * 60 // minutes_spent


def _minutes_spent(minutes_spent: int | None) -> int | None:
    if minutes_spent is None:
        return None
    if not MIN_MINUTES_SPENT <= minutes_spent <= MAX_MINUTES_SPENT:
        raise DomainError(
            _(
                "State the time you actually spent, in whole minutes from %(low)s to %(high)s.",
                low=MIN_MINUTES_SPENT,
                high=MAX_MINUTES_SPENT,
            ),
            field="minutes_spent",
        )
    return minutes_spent


def submit_delivery(
    member: User,
    task_id: int,
    files: list[StoredFile],
    note: str,
    minutes_spent: int | None = None,
) -> Delivery:
    """Deliver files for a task assigned to member (a first delivery or a resubmission).

    minutes_spent is the time the member says they spent (the web form requires it); when the
    net pay over it is below the pay floor, the delivery carries the top-up that would meet it.
    """
    if not files:
        raise DomainError(_("Attach at least one file."), field="files")
    minutes_spent = _minutes_spent(minutes_spent)
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
            minutes_spent=minutes_spent,
            topup_cents=stated_time_topup(task, minutes_spent),
        )
        for stored in files:
            DeliveryFile.create(
                delivery=delivery,
                filename=stored.filename,
                sha256=stored.sha256,
                size=stored.size,
                content_type=stored.content_type,
            )
        # Deliveries made without a stated time (operations called directly) keep the old form.
        stated = (
            {"minutes_spent": minutes_spent, "topup_cents": delivery.topup_cents}
            if minutes_spent is not None
            else {}
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
            **stated,
        )
        window = timedelta(hours=params.current().review_window_hours)
        notify(
            [task.client_id],
            NotificationKind.DELIVERY_WAITING,
            f"task:{task.id}",
            title=task.title,
            deadline=(now + window).isoformat(),
        )
    return delivery


# --- reviewing and completing -------------------------------------------------------------


def _complete(
    task: Task, delivery: Delivery, from_state: str, now: datetime, topup: int = 0
) -> Earning:
    """Complete the task and credit its member; the one path for every kind of acceptance.

    topup is paid by the client on top of the price, without margin (stated time below the
    floor); it is part of the earning's price and earnings.
    """
    changed = (
        Task.update(state=TaskState.COMPLETED, completed_at=now)
        .where((Task.id == task.id) & (Task.state == from_state))
        .execute()
    )
    if not changed:
        raise Conflict(_("This task changed meanwhile; nothing was done."))
    price = task.price_cents or 0
    margin = price - _net_pay(task)
    earning = Earning.create(
        member=delivery.member_id,
        task=task,
        price_cents=price + topup,
        earnings_cents=price - margin + topup,
        margin_cents=margin,
        topup_cents=topup,
        created_at=now,
    )
    extra = {"topup_cents": topup} if topup else {}
    record(
        "task.completed",
        f"task:{task.id}",
        task=task.id,
        delivery=delivery.id,
        price_cents=price + topup,
        earnings_cents=price - margin + topup,
        margin_cents=margin,
        currency=CURRENCY,
        member=delivery.member.pseudonym,
        **extra,
    )
    notify(
        [delivery.member_id],
        NotificationKind.TASK_PAID,
        f"task:{task.id}",
        title=task.title,
        cents=price - margin + topup,
    )
    return earning


def _review(
    delivery: Delivery,
    accepted: bool,
    reason: str,
    auto: bool,
    now: datetime,
    category: RejectionCategory | None = None,
    topup: bool = False,
) -> None:
    """Decide a pending delivery of a delivered task, inside the caller's transaction.

    topup pays the delivery's stated-time top-up with the acceptance.
    """
    outcome = DeliveryState.ACCEPTED if accepted else DeliveryState.REJECTED
    changed = (
        Delivery.update(
            state=outcome,
            review_reason=reason,
            reviewed_at=now,
            auto_accepted=auto,
            rejection_category=None if accepted else category,
        )
        .where((Delivery.id == delivery.id) & (Delivery.state == DeliveryState.PENDING))
        .execute()
    )
    if not changed:
        raise Conflict(_("This delivery has already been reviewed."))
    task = delivery.task
    paid_topup = delivery.topup_cents if accepted and topup else 0
    if accepted:
        _complete(task, delivery, TaskState.DELIVERED, now, topup=paid_topup)
    else:
        _reject_task(task)
    extra = {} if accepted else {"category": str(category)}
    if paid_topup:
        extra["topup_cents"] = paid_topup
    record(
        "delivery.reviewed",
        f"delivery:{delivery.id}",
        task=task.id,
        delivery=delivery.id,
        outcome=str(outcome),
        reason_sha256=_sha256_text(reason),
        auto=auto,
        **extra,
    )


def _reject_task(task: Task) -> None:
    changed = (
        Task.update(state=TaskState.REJECTED)
        .where((Task.id == task.id) & (Task.state == TaskState.DELIVERED))
        .execute()
    )
    if not changed:
        raise Conflict(_("This task is not waiting for a review."))
    notify(
        [task.member_id], NotificationKind.DELIVERY_REJECTED, f"task:{task.id}", title=task.title
    )


def _client_delivery(client: User, delivery_id: int) -> Delivery:
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None or delivery.task.client_id != client.id:
        raise NotFound(_("No such delivery among your tasks."))
    return delivery


def accept_delivery(client: User, delivery_id: int, *, topup: bool = False) -> Delivery:
    """Accept a pending delivery: the task completes and its member is paid.

    A delivery whose stated time puts the member below the pay floor cannot be accepted at
    the bare price (the estimate may not silently stand): the client tops up or disputes.
    """
    with write_transaction():
        delivery = _client_delivery(client, delivery_id)
        if delivery.topup_cents and not topup:
            raise Conflict(
                _(
                    "The member's stated time puts their pay below the floor: accept and top "
                    "up to the floor, or reject."
                )
            )
        if topup and not delivery.topup_cents:
            raise Conflict(_("This delivery needs no top-up: accept it at its price."))
        _review(delivery, accepted=True, reason="", auto=False, now=utcnow(), topup=topup)
    return Delivery.get_by_id(delivery_id)


@dataclass(frozen=True)
class ReviewStats:
    """A client's record of reviews: deliveries they rejected out of those they reviewed."""

    rejected: int
    reviewed: int

    @property
    def rate_bp(self) -> int:
        return self.rejected * 10000 // self.reviewed if self.reviewed else 0

    def held_for_board(self, current: params.Params) -> bool:
        """Return whether the client's next rejection waits for the board."""
        return (
            self.reviewed >= current.rejection_review_min_reviews
            and self.rejected * 10000 >= current.rejection_review_rate_bp * self.reviewed
        )


def _client_rejected():
    # A rejection counts whatever came of it (held, confirmed, overturned by the board).
    return Delivery.rejection_category.is_null(False) | (
        Delivery.state.in_([DeliveryState.REJECTED, DeliveryState.REJECTION_REVIEW])
    )


def _client_reviewed():
    accepted = (Delivery.state == DeliveryState.ACCEPTED) & (Delivery.auto_accepted == False)  # noqa: E712
    return _client_rejected() | accepted


def _review_sums():
    """Return the SUM expressions counting a client's rejected and reviewed deliveries."""
    return (
        fn.SUM(Case(None, [(_client_rejected(), 1)], 0)),
        fn.SUM(Case(None, [(_client_reviewed(), 1)], 0)),
    )


def review_stats(client_ids: list[int]) -> dict[int, ReviewStats]:
    """Return each client's rejected and reviewed deliveries (auto-acceptances do not count)."""
    rejected, reviewed = _review_sums()
    rows = (
        Delivery.select(
            Task.client.alias("client_id"), rejected.alias("rej"), reviewed.alias("rev")
        )
        .join(Task)
        .where(Task.client.in_(client_ids or [0]))
        .group_by(Task.client)
        .objects()
    )
    stats = {i: ReviewStats(0, 0) for i in client_ids}
    for row in rows:
        stats[row.client_id] = ReviewStats(int(row.rej or 0), int(row.rev or 0))
    return stats


def clients_by_rejection_rate():
    """Return a query of (client id, rejected, reviewed) for clients who reviewed a delivery,
    highest rejection rate first (ReviewStats.rate_bp, in SQL), then most reviewed: one page
    of it is a page of the board's list."""
    rejected, reviewed = _review_sums()
    # Both backends divide integers as integers, as rate_bp does.
    rate_bp = (rejected * 10000) / reviewed
    return (
        Delivery.select(Task.client, rejected, reviewed)
        .join(Task)
        .join(User, on=(Task.client == User.id))
        .where(User.role == Role.CLIENT)
        .group_by(Task.client)
        .having(reviewed > 0)
        .order_by(rate_bp.desc(), reviewed.desc(), Task.client)
        .tuples()
    )


def _held_for_board(client: User) -> ReviewStats | None:
    """Return the client's record if their next rejection must wait for the board."""
    stats = review_stats([client.id])[client.id]
    return stats if stats.held_for_board(params.current()) else None


def reject_delivery(client: User, delivery_id: int, reason: str, category) -> Delivery:
    """Reject a pending delivery with a category and a reason the member reads.

    The member may then resubmit or dispute. A client whose rejection rate is at or past the
    board's threshold has the rejection held: the board confirms or overturns it first.
    """
    category = _rejection_category(category)
    reason = _rejection_reason(reason)
    now = utcnow()
    with write_transaction():
        delivery = _client_delivery(client, delivery_id)
        stats = _held_for_board(client)
        if stats is None:
            _review(delivery, accepted=False, reason=reason, auto=False, now=now,
                    category=category)
        else:
            _hold_rejection(client, delivery, reason, category, stats, now)
    return Delivery.get_by_id(delivery_id)


def _hold_rejection(
    client: User,
    delivery: Delivery,
    reason: str,
    category: RejectionCategory,
    stats: ReviewStats,
    now: datetime,
) -> None:
    """Put a rejection before the board; the task stays delivered, no attempt is used."""
    changed = (
        Delivery.update(
            state=DeliveryState.REJECTION_REVIEW,
            review_reason=reason,
            rejection_category=category,
            reviewed_at=now,
        )
        .where((Delivery.id == delivery.id) & (Delivery.state == DeliveryState.PENDING))
        .execute()
    )
    task = delivery.task
    if not changed or task.state != TaskState.DELIVERED:
        raise Conflict(_("This delivery has already been reviewed."))
    RejectionReview.create(
        delivery=delivery,
        task=task,
        client=client,
        client_rejected=stats.rejected,
        client_reviewed=stats.reviewed,
        created_at=now,
    )
    record(
        "rejection.held",
        f"delivery:{delivery.id}",
        task=task.id,
        delivery=delivery.id,
        category=str(category),
        reason_sha256=_sha256_text(reason),
        client_rejected=stats.rejected,
        client_reviewed=stats.reviewed,
    )


def decide_rejection(
    board: User, review_id: int, *, confirmed: bool, reason: str
) -> RejectionReview:
    """Confirm a held rejection (it takes effect) or overturn it (accepted, member paid)."""
    reason = _required_reason(reason, _("Give the reason for the board's decision."))
    now = utcnow()
    outcome = RejectionReviewState.CONFIRMED if confirmed else RejectionReviewState.OVERTURNED
    with write_transaction():
        review = RejectionReview.get_or_none(RejectionReview.id == review_id)
        if review is None:
            raise NotFound(_("No such rejection waiting for the board."))
        delivery, task = review.delivery, review.task
        _require_impartial(board, task, delivery)
        changed = (
            RejectionReview.update(
                state=outcome, decision_reason=reason, decided_by=board, decided_at=now
            )
            .where(
                (RejectionReview.id == review.id)
                & (RejectionReview.state == RejectionReviewState.OPEN)
            )
            .execute()
        )
        if not changed:
            raise Conflict(_("This rejection has already been decided."))
        to_state = DeliveryState.REJECTED if confirmed else DeliveryState.ACCEPTED
        changed = (
            Delivery.update(state=to_state)
            .where(
                (Delivery.id == delivery.id)
                & (Delivery.state == DeliveryState.REJECTION_REVIEW)
            )
            .execute()
        )
        if not changed:
            raise Conflict(_("This delivery changed meanwhile; nothing was done."))
        if confirmed:
            _reject_task(task)
        record(
            "rejection.decided",
            f"delivery:{delivery.id}",
            task=task.id,
            delivery=delivery.id,
            outcome=str(outcome),
            reason_sha256=_sha256_text(reason),
        )
        if not confirmed:
            _complete(task, delivery, TaskState.DELIVERED, now, topup=delivery.topup_cents)
    return RejectionReview.get_by_id(review_id)


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
                # The client stayed silent on a stated time below the floor: the top-up is due.
                _review(delivery, accepted=True, reason="", auto=True, now=now, topup=True)
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
        dispute = Dispute.create(delivery=delivery, task=task, member=member, reason=reason)
        notify(
            _eligible_board(task, delivery),
            NotificationKind.DISPUTE_OPENED,
            f"dispute:{dispute.id}",
            title=task.title,
        )
        return dispute


def dispute_stated_time(client: User, delivery_id: int, reason: str) -> Dispute:
    """Ask the board to decide whether the member's stated time stands (and its top-up is due).

    The delivery waits, neither reviewed nor auto-accepted, until the board decides: upheld
    pays the price and the top-up, dismissed pays the price alone.
    """
    reason = _required_reason(reason, _("Say why the stated time is wrong."))
    with write_transaction():
        delivery = _client_delivery(client, delivery_id)
        task = delivery.task
        if delivery.state != DeliveryState.PENDING or not delivery.topup_cents:
            raise Conflict(
                _("Only a delivery waiting for review, with a stated time below the floor, "
                  "can have its time disputed.")
            )
        changed = (
            Task.update(state=TaskState.DISPUTED)
            .where((Task.id == task.id) & (Task.state == TaskState.DELIVERED))
            .execute()
        )
        if not changed:
            raise Conflict(_("This task is not waiting for a review."))
        dispute = Dispute.create(
            delivery=delivery,
            task=task,
            member=delivery.member_id,
            reason=reason,
            kind=DisputeKind.STATED_TIME,
        )
        notify(
            _eligible_board(task, delivery),
            NotificationKind.DISPUTE_OPENED,
            f"dispute:{dispute.id}",
            title=task.title,
            stated_time=True,
        )
        return dispute


def _settle_stated_time(dispute: Dispute, upheld: bool, now: datetime) -> None:
    """Accept the disputed delivery: with its top-up if the stated time stands, else without."""
    delivery, task = dispute.delivery, dispute.task
    changed = (
        Delivery.update(state=DeliveryState.ACCEPTED, reviewed_at=now)
        .where((Delivery.id == delivery.id) & (Delivery.state == DeliveryState.PENDING))
        .execute()
    )
    if not changed:
        raise Conflict(_("This delivery changed meanwhile; nothing was done."))
    _complete(task, delivery, TaskState.DISPUTED, now,
              topup=delivery.topup_cents if upheld else 0)


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
        # Nobody judges their own case: not the client, not the member who did the work.
        _require_impartial(board, dispute.task, dispute.delivery)
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
        if dispute.kind == DisputeKind.STATED_TIME:
            _settle_stated_time(dispute, upheld, now)
        elif upheld:
            changed = (
                Delivery.update(state=DeliveryState.ACCEPTED, reviewed_at=now)
                .where(
                    (Delivery.id == delivery.id) & (Delivery.state == DeliveryState.REJECTED)
                )
                .execute()
            )
            if not changed:
                raise Conflict(_("This delivery changed meanwhile; nothing was done."))
            _complete(task, delivery, TaskState.DISPUTED, now, topup=delivery.topup_cents)
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
            # Rejection disputes keep their old entry; other kinds say what was disputed.
            **(
                {} if dispute.kind == DisputeKind.REJECTION
                else {"dispute_kind": str(dispute.kind)}
            ),
        )
        # A stated-time dispute was the client's: the member hears of it by the payment.
        notify(
            [dispute.member_id] if dispute.kind == DisputeKind.REJECTION else [],
            NotificationKind.DISPUTE_RESOLVED,
            f"task:{task.id}",
            title=task.title,
            upheld=upheld,
        )
    return Dispute.get_by_id(dispute_id)


# --- reading --------------------------------------------------------------------------------


def deliveries_for(viewer: User, task: Task) -> list[Delivery]:
    """Return the task's deliveries viewer may see, by attempt (for the task page)."""
    return list(visible_deliveries(viewer, task).order_by(Delivery.attempt, Delivery.id))


def withheld_from_client(delivery: Delivery, max_attempts: int) -> bool:
    """Return whether the client may no longer download this delivery's files.

    A rejection is final once the member who delivered can no longer deliver again (last
    attempt used, task released, returned, disputed or reopened) or while the board reviews
    it; the client then keeps the hashes but not the work they did not pay for, unless the
    board dismissed the member's dispute (the rejection stands, confirmed by the board).
    """
    if delivery.state in (DeliveryState.PENDING, DeliveryState.ACCEPTED):
        return False
    task = delivery.task
    same_run = (
        task.member_id == delivery.member_id
        and task.assigned_at is not None
        and delivery.submitted_at >= task.assigned_at
    )
    if delivery.state == DeliveryState.REJECTED and same_run:
        if task.state in (TaskState.DELIVERED, TaskState.COMPLETED):
            return False
        if task.state == TaskState.REJECTED and task.attempts < max_attempts:
            return False
    return not (
        Dispute.select()
        .where((Dispute.delivery == delivery.id) & (Dispute.state == DisputeState.DISMISSED))
        .exists()
    )


def deliverable_file(viewer: User, delivery_id: int, file_id: int) -> DeliveryFile:
    """Return a delivered file if viewer may download it.

    :raises NotFound: not the viewer's to see (no leak).
    :raises Forbidden: the client, after a final rejection (see withheld_from_client).
    """
    stored = (
        DeliveryFile.select(DeliveryFile, Delivery)
        .join(Delivery)
        .where((DeliveryFile.id == file_id) & (Delivery.id == delivery_id))
        .first()
    )
    if stored is None or not can_see_delivery(viewer, stored.delivery):
        raise NotFound(_("No such file, or not yours to see."))
    delivery = stored.delivery
    if (
        not viewer.is_board
        and viewer.id == delivery.task.client_id
        and viewer.id != delivery.member_id
        and withheld_from_client(delivery, params.current().max_attempts)
    ):
        raise Forbidden(
            _(
                "This delivery was rejected and the rejection is final: its files stay with "
                "the member, who was not paid for them. Its SHA-256 hashes remain on the "
                "receipt. If the board dismisses a dispute about it, you may download them."
            )
        )
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
    withheld: bool = False  # the viewer (the client) may not download the files
    rejection_review: RejectionReview | None = None
    # The member's net pay per hour over the minutes they stated (None: none stated).
    implied_cents_per_hour: int | None = None


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
    reviews: dict[int, RejectionReview] = {}
    if ids:
        for f in DeliveryFile.select().where(DeliveryFile.delivery.in_(ids)).order_by(
            DeliveryFile.id
        ):
            files[f.delivery_id].append(f)
        for d in Dispute.select().where(Dispute.delivery.in_(ids)).order_by(Dispute.id):
            disputes[d.delivery_id] = d  # the latest one wins
        for r in RejectionReview.select().where(RejectionReview.delivery.in_(ids)).order_by(
            RejectionReview.id
        ):
            reviews[r.delivery_id] = r
    return [
        DeliveryItem(
            delivery=d,
            files=files[d.id],
            dispute=disputes.get(d.id),
            auto_accept_at=d.submitted_at + window if d.state == DeliveryState.PENDING else None,
            rejection_review=reviews.get(d.id),
            implied_cents_per_hour=implied_cents_per_hour(d.task, d.minutes_spent),
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
        withheld = (
            is_client
            and d.member_id != viewer.id
            and withheld_from_client(d, current.max_attempts)
        )
        items.append(
            DeliveryItem(
                d, item.files, item.dispute, item.auto_accept_at, can_review, can_dispute,
                withheld, item.rejection_review, item.implied_cents_per_hour,
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
    caps: CapUsage | None = None


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
    caps = cap_usage(member, now)
    return MyWork(active, waiting, history, int(month_total or 0), month_start, caps)


@dataclass(frozen=True)
class BoardCase:
    """An open dispute or a held rejection, and whether the viewing board member may decide."""

    item: DeliveryItem
    can_decide: bool
    # Why it cannot be decided by the viewer: they are a party, or every board member is.
    waiting: str = ""


@dataclass(frozen=True)
class DisputesOverview:
    """The board's disputes page: open disputes and held rejections first, then the latest
    resolved disputes."""

    open: list[tuple[Dispute, BoardCase]]
    held: list[tuple[RejectionReview, BoardCase]]
    resolved: list[tuple[Dispute, DeliveryItem]]


def _case(viewer: User, item: DeliveryItem) -> BoardCase:
    delivery = item.delivery
    task = delivery.task
    if not _eligible_board(task, delivery):
        return BoardCase(item, False, _("waiting: every eligible board member is a party"))
    if is_party(viewer, task, delivery):
        return BoardCase(
            item, False, _("You are a party to this task: another board member decides.")
        )
    return BoardCase(item, True)


def disputes_overview(viewer: User) -> DisputesOverview:
    """Return open disputes and held rejections (oldest first), and recently resolved disputes,
    each open case saying whether viewer may decide it."""
    window = timedelta(hours=params.current().review_window_hours)

    def with_items(query) -> list[tuple]:
        rows = list(query)
        items = _items([r.delivery for r in rows], window)
        return list(zip(rows, items, strict=True))

    base = Dispute.select(Dispute, Delivery, Task).join(Delivery).switch(Dispute).join(Task)
    held = (
        RejectionReview.select(RejectionReview, Delivery, Task)
        .join(Delivery)
        .switch(RejectionReview)
        .join(Task)
        .where(RejectionReview.state == RejectionReviewState.OPEN)
        .order_by(RejectionReview.created_at, RejectionReview.id)
    )
    return DisputesOverview(
        open=[
            (dispute, _case(viewer, item))
            for dispute, item in with_items(
                base.where(Dispute.state == DisputeState.OPEN).order_by(Dispute.created_at)
            )
        ],
        held=[(review, _case(viewer, item)) for review, item in with_items(held)],
        resolved=with_items(
            base.where(Dispute.state != DisputeState.OPEN)
            .order_by(Dispute.resolved_at.desc())
            .limit(RESOLVED_LIMIT)
        ),
    )
