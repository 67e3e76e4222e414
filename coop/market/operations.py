"""Tasks, claims, bids and awards: operations taking the actor explicitly, and the market's reads.

Every change runs in `write_transaction()`; a claim or an award assigns a task with a
conditional UPDATE (`... WHERE state = 'open'`) so that, under any concurrency, exactly one
wins and the others get a Conflict.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import peewee
from flask_babel import gettext as _

from coop import calendar
from coop import params as params_module
from coop.audit.events import record
from coop.auth.roles import require_client as _require_client
from coop.auth.roles import require_member as _require_member
from coop.db import locked, write_transaction
from coop.errors import Conflict, DomainError, NotFound
from coop.files import FileTooLarge, StoredFile, format_size
from coop.formats import money as format_money
from coop.formats import percent as format_percent
from coop.market import search
from coop.market.access import can_see_task, content_hidden
from coop.models import (
    CATEGORIES,
    Bid,
    BidState,
    Delivery,
    DeliveryState,
    Earning,
    NotificationKind,
    Pricing,
    Task,
    TaskAttachment,
    TaskState,
    User,
    utcnow,
)
from coop.money import minimum_gross_price
from coop.notifications.operations import notify

# A member is still working on a task in these states: they count against the active-task
# limit. A delivered task waits for the client and a disputed one for the board, so neither
# may block the member from taking new work.
ACTIVE_STATES = (TaskState.ASSIGNED, TaskState.REJECTED)
# A member may hand back a task in these states.
RELEASABLE_STATES = (TaskState.ASSIGNED, TaskState.REJECTED)

MAX_TITLE = 120
MAX_DESCRIPTION = 5000
MAX_INSTRUCTIONS = 10000
MAX_CONTENT_NOTE = 300
MAX_BID_NOTE = 500
MAX_MINUTES = 80 * 60
MAX_ETA_HOURS = 24 * 60
# Counting every open task on each board page is what makes a big board slow: the board counts
# matches only up to PAGES_AHEAD pages past the one shown, and never more than COUNT_CAP.
PAGES_AHEAD = 10
COUNT_CAP = 10_000


@dataclass(frozen=True)
class TrackRecord:
    """A member's record as clients see it: completed tasks and accepted/reviewed deliveries."""

    completed: int = 0
    accepted: int = 0
    reviewed: int = 0

    @property
    def acceptance_pct(self) -> int | None:
        """Return accepted / reviewed deliveries in whole percent, None before any review."""
        if not self.reviewed:
            return None
        return round(100 * self.accepted / self.reviewed)


# ---------------------------------------------------------------------------------------------
# Rules shared by posting, bidding, claiming and awarding
# ---------------------------------------------------------------------------------------------


def pay_per_hour(amount_cents: int, minutes: int) -> int:
    """Return what amount_cents for minutes of work pays per hour, in cents (rounded down)."""
    return amount_cents * 60 // minutes


def minimum_pay(minutes: int, terms: params_module.Params) -> int:
    """Return the smallest price (or bid, or budget) whose net pay meets the floor for minutes.

    The pay floor is the member's net hourly pay: what is left of the price after the coop's
    margin must pay the floor for the estimated minutes.
    """
    return minimum_gross_price(terms.pay_floor_cents_per_hour, terms.margin_bp, minutes * 60)


def _check_floor(amount_cents: int, minutes: int, terms: params_module.Params, what: str,
                 field: str) -> None:
    minimum = minimum_pay(minutes, terms)
    if amount_cents < minimum:
        values = {
            "floor": format_money(terms.pay_floor_cents_per_hour),
            "margin": format_percent(terms.margin_bp),
            "minutes": minutes,
            "minimum": format_money(minimum),
        }
        messages = {
            "price": _(
                "The pay floor is %(floor)s/h for the member, after the coop's margin of "
                "%(margin)s: for %(minutes)s minutes the price must be at least %(minimum)s.",
                **values,
            ),
            "budget": _(
                "The pay floor is %(floor)s/h for the member, after the coop's margin of "
                "%(margin)s: for %(minutes)s minutes the budget must be at least %(minimum)s.",
                **values,
            ),
            "bid": _(
                "The pay floor is %(floor)s/h for the member, after the coop's margin of "
                "%(margin)s: for %(minutes)s minutes a bid must be at least %(minimum)s.",
                **values,
            ),
        }
        raise DomainError(messages[what], field=field)


def _minutes_taken(member_id: int, since: datetime, sensitive_only: bool = False) -> int:
    query = Task.select(peewee.fn.COALESCE(peewee.fn.SUM(Task.estimated_minutes), 0)).where(
        (Task.member == member_id) & (Task.assigned_at >= since)
    )
    if sensitive_only:
        query = query.where(Task.sensitive == True)  # noqa: E712 (peewee expression)
    return int(query.scalar() or 0)


def task_minutes(member_id: int, since: datetime) -> int:
    """Return the estimated minutes of the tasks the member took since a time."""
    return _minutes_taken(member_id, since)


def sensitive_task_minutes(member_id: int, since: datetime) -> int:
    """Return the estimated minutes of sensitive tasks the member took since a time."""
    return _minutes_taken(member_id, since, sensitive_only=True)


def _hours(minutes: int) -> str:
    """Format minutes as hours for messages: 90 -> '1.5', 120 -> '2'."""
    return f"{minutes / 60:.1f}".removesuffix(".0")


@dataclass(frozen=True)
class CapUsage:
    """Where a member stands against the caps check_limits enforces (shown on My work)."""

    active: int
    max_active: int
    week_minutes: int
    weekly_cap_minutes: int
    sensitive_today_minutes: int
    sensitive_cap_minutes: int

    @property
    def week_hours(self) -> str:
        return _hours(self.week_minutes)

    @property
    def weekly_cap_hours(self) -> str:
        return _hours(self.weekly_cap_minutes)


def _active_count(member: User) -> int:
    # A delivery whose rejection waits for the board is not the member's to act on: it does not
    # keep them from taking other work meanwhile.
    held = Delivery.select(Delivery.id).where(
        (Delivery.task == Task.id) & (Delivery.state == DeliveryState.REJECTION_REVIEW)
    )
    return (
        Task.select()
        .where(
            (Task.member == member.id)
            & (Task.state.in_(ACTIVE_STATES))
            & ~peewee.fn.EXISTS(held)
        )
        .count()
    )


def _sensitive_today(member: User, now: datetime) -> int:
    day = calendar.day(now).start
    # Time measured on sensitive project items counts against the same daily cap.
    from coop.projects.exposure import answer_seconds

    tasks = _minutes_taken(member.id, day, sensitive_only=True)
    return tasks + answer_seconds(member.id, day) // 60


def cap_usage(member: User, now: datetime, params=None) -> CapUsage:
    """Return member's active tasks, hours this week and sensitive minutes today, with caps."""
    params = params or params_module.current()
    return CapUsage(
        active=_active_count(member),
        max_active=params.max_active_tasks,
        week_minutes=_minutes_taken(member.id, calendar.iso_week(now).start),
        weekly_cap_minutes=params.weekly_hours_cap * 60,
        sensitive_today_minutes=_sensitive_today(member, now),
        sensitive_cap_minutes=params.sensitive_minutes_per_day,
    )


def check_limits(member: User, task: Task, now: datetime, params=None) -> None:
    """Refuse, naming the limit and its value, if member may not take task now."""
    params = params or params_module.current()
    active = _active_count(member)
    if active >= params.max_active_tasks:
        raise DomainError(
            _(
                "The limit is %(limit)s active tasks per member, and you hold %(active)s: "
                "deliver or release one first.",
                limit=params.max_active_tasks,
                active=active,
            )
        )
    week = _minutes_taken(member.id, calendar.iso_week(now).start)
    if week + task.estimated_minutes > params.weekly_hours_cap * 60:
        raise DomainError(
            _(
                "The weekly cap is %(cap)s h: you have taken %(taken)s h of tasks this week "
                "and this one needs %(needed)s h.",
                cap=params.weekly_hours_cap,
                taken=_hours(week),
                needed=_hours(task.estimated_minutes),
            )
        )
    if task.sensitive:
        if not member.sensitive_opt_in:
            raise DomainError(
                _(
                    "This task is flagged as sensitive content: only members who accept "
                    "sensitive tasks in their settings may take it."
                )
            )
        today = _sensitive_today(member, now)
        if today + task.estimated_minutes > params.sensitive_minutes_per_day:
            raise DomainError(
                _(
                    "The limit for sensitive content is %(cap)s minutes a day (%(tz)s time): "
                    "you have taken %(taken)s minutes today and this task needs %(needed)s.",
                    tz=str(calendar.coop_zone()),
                    cap=params.sensitive_minutes_per_day,
                    taken=today,
                    needed=task.estimated_minutes,
                )
            )


def _lock_user(user: User) -> User:
    """Lock the user's row on PostgreSQL so their concurrent claims pass the limits one by one."""
    return locked(User.select().where(User.id == user.id)).get()


def _get_task(task_id: int, lock: bool = False) -> Task:
    query = Task.select().where(Task.id == task_id)
    task = (locked(query) if lock else query).first()
    if task is None:
        raise NotFound(_("No such task."))
    return task


def _check_floor_in_force(task: Task, price_cents: int, terms: params_module.Params,
                          mode: str) -> None:
    """Refuse to assign below the pay floor (net of the margin) in force now, though the floor
    or the margin was raised after posting."""
    minimum = minimum_pay(task.estimated_minutes, terms)
    if price_cents >= minimum:
        return
    values = {"floor": format_money(terms.pay_floor_cents_per_hour),
              "margin": format_percent(terms.margin_bp), "minutes": task.estimated_minutes,
              "minimum": format_money(minimum), "price": format_money(price_cents)}
    if mode == "claim":
        message = _(
            "The pay floor is now %(floor)s/h for the member, after the coop's margin of "
            "%(margin)s: for %(minutes)s minutes this task must pay at least %(minimum)s, and "
            "it pays %(price)s. The client has to raise the price before it can be taken.",
            **values,
        )
    else:
        message = _(
            "The pay floor is now %(floor)s/h for the member, after the coop's margin of "
            "%(margin)s: for %(minutes)s minutes a bid must be at least %(minimum)s, and this "
            "one is %(price)s. Raise the budget if it is below that, and award a bid at or "
            "above the floor.",
            **values,
        )
    raise DomainError(message)


def _assign(task: Task, member: User, price_cents: int, now: datetime, mode: str) -> None:
    """Assign an open task to member exactly once; the loser of a race gets a Conflict.

    The pay floor in force now must be met, and the margin in force now is fixed on the task:
    the member's pay is settled when they take it, whatever the board changes later.
    """
    terms = params_module.current()
    _check_floor_in_force(task, price_cents, terms, mode)
    rows = (
        Task.update(
            state=TaskState.ASSIGNED,
            member=member.id,
            assigned_at=now,
            price_cents=price_cents,
            pay_per_hour_cents=pay_per_hour(price_cents, task.estimated_minutes),
            margin_bp=terms.margin_bp,
        )
        .where((Task.id == task.id) & (Task.state == TaskState.OPEN))
        .execute()
    )
    if rows != 1:
        raise Conflict(_("Someone else claimed this task first."))
    record(
        "task.awarded",
        f"task:{task.id}",
        task=task.id,
        member=member.pseudonym,
        price_cents=price_cents,
        margin_bp=terms.margin_bp,
        mode=mode,
    )


def _reopen(task: Task) -> None:
    """Put a task back on the board: no member; a bid task gets its budget back as its price."""
    changes = {Task.state: TaskState.OPEN, Task.member: None, Task.assigned_at: None,
               Task.margin_bp: None}
    if task.pricing == Pricing.BIDS:
        changes[Task.price_cents] = None
        changes[Task.pay_per_hour_cents] = pay_per_hour(task.budget_cents, task.estimated_minutes)
    Task.update(changes).where(Task.id == task.id).execute()


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


def _check_text(value: str, field: str, limit: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > limit:
        raise DomainError(
            _("At most %(limit)s characters, please.", limit=limit), field=field
        )
    return value


def _check_amount(value, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DomainError(_("Enter an amount greater than zero."), field=field)
    return value


def post_task(
    client: User,
    *,
    title: str,
    description: str,
    instructions: str,
    category: str,
    estimated_minutes: int,
    deadline: datetime,
    sensitive: bool = False,
    content_note: str = "",
    pricing: str,
    price_cents: int | None = None,
    budget_cents: int | None = None,
    bidding_deadline: datetime | None = None,
    attachments: Sequence[StoredFile] = (),
) -> Task:
    """Post a task at a fixed price or open to bids, refusing any pay below the floor."""
    _require_client(client)
    now = utcnow()
    title = _check_text(title, "title", MAX_TITLE, required=True)
    description = _check_text(description, "description", MAX_DESCRIPTION, required=True)
    instructions = _check_text(instructions, "instructions", MAX_INSTRUCTIONS, required=False)
    if category not in CATEGORIES:
        raise DomainError(_("Choose a category from the list."), field="category")
    if (
        not isinstance(estimated_minutes, int)
        or not 1 <= estimated_minutes <= MAX_MINUTES
    ):
        raise DomainError(
            _("Between 1 and %(max)s minutes, please.", max=MAX_MINUTES),
            field="estimated_minutes",
        )
    if deadline is None or deadline <= now:
        raise DomainError(_("The delivery deadline must be in the future."), field="deadline")
    content_note = _check_text(content_note, "content_note", MAX_CONTENT_NOTE, required=False)
    if sensitive and not content_note:
        raise DomainError(
            _("Say what the sensitive content is, so members can decide."), field="content_note"
        )
    terms = params_module.current()
    if pricing == Pricing.FIXED:
        price_cents = _check_amount(price_cents, "price")
        _check_floor(price_cents, estimated_minutes, terms, "price", "price")
        budget_cents, bidding_deadline, amount = None, None, price_cents
    elif pricing == Pricing.BIDS:
        budget_cents = _check_amount(budget_cents, "budget")
        _check_floor(budget_cents, estimated_minutes, terms, "budget", "budget")
        if bidding_deadline is None or bidding_deadline <= now:
            raise DomainError(
                _("The bidding deadline must be in the future."), field="bidding_deadline"
            )
        if bidding_deadline >= deadline:
            raise DomainError(
                _("The bidding deadline must come before the delivery deadline."),
                field="bidding_deadline",
            )
        price_cents, amount = None, budget_cents
    else:
        raise DomainError(_("Choose a fixed price or bids."), field="pricing")
    with write_transaction():
        _check_storage_quota(client, attachments)
        task = Task.create(
            client=client.id,
            title=title,
            description=description,
            instructions=instructions,
            category=category,
            estimated_minutes=estimated_minutes,
            deadline=deadline,
            sensitive=bool(sensitive),
            content_note=content_note if sensitive else "",
            pricing=pricing,
            price_cents=price_cents,
            budget_cents=budget_cents,
            bidding_deadline=bidding_deadline,
            pay_per_hour_cents=pay_per_hour(amount, estimated_minutes),
        )
        for stored in attachments:
            TaskAttachment.create(
                task=task.id, filename=stored.filename, sha256=stored.sha256, size=stored.size
            )
    return task


def _check_storage_quota(client: User, attachments: Sequence[StoredFile]) -> None:
    """Refuse attachments past the quota inside the posting transaction.

    SQLite's write lock, or PostgreSQL's lock on the client's row, means two posts at once
    cannot both squeeze under the quota.
    """
    if sum(f.size for f in attachments):
        _lock_user(client)
        check_storage_quota(client, attachments)


def check_storage_quota(client: User, attachments: Sequence[StoredFile]) -> None:
    """Refuse attachments that would take the client past the board's storage quota.

    :raises FileTooLarge: past the quota (the message says the total and the quota).
    """
    adding = sum(f.size for f in attachments)
    if not adding:
        return
    quota_mb = params_module.current().client_storage_quota_mb
    used = (
        TaskAttachment.select(peewee.fn.COALESCE(peewee.fn.SUM(TaskAttachment.size), 0))
        .join(Task)
        .where(Task.client == client.id)
        .scalar()
    )
    if int(used or 0) + adding > quota_mb * 1024 * 1024:
        raise FileTooLarge(
            _(
                "Your files would take %(total)s, past your storage quota of %(quota)s: "
                "nothing was stored. The board sets the quota.",
                total=format_size(int(used or 0) + adding),
                quota=format_size(quota_mb * 1024 * 1024),
            ),
            field="attachments",
        )


def floor_shortfall(task: Task) -> int | None:
    """Return the price an open task must reach to meet the pay floor in force, if it is below.

    A floor raised after the task was posted stops claims and awards below it; the client is
    shown this amount and asked to raise the price (or, for bids, the budget).
    """
    if task.state != TaskState.OPEN:
        return None
    amount = task.price_cents if task.pricing == Pricing.FIXED else task.budget_cents
    minimum = minimum_pay(task.estimated_minutes, params_module.current())
    return minimum if amount is not None and amount < minimum else None


def raise_price(client: User, task_id: int, amount_cents: int) -> Task:
    """Raise the price (fixed) or the budget (bids) of the client's open task."""
    _require_client(client)
    amount_cents = _check_amount(amount_cents, "amount")
    with write_transaction():
        task = _get_task(task_id, lock=True)
        if task.client_id != client.id:
            raise NotFound(_("No such task."))
        if task.state != TaskState.OPEN:
            raise DomainError(_("Only an open task's price can be raised."), field="amount")
        current = task.price_cents if task.pricing == Pricing.FIXED else task.budget_cents
        if amount_cents <= current:
            raise DomainError(
                _("Enter more than the current %(amount)s.", amount=format_money(current)),
                field="amount",
            )
        what = "price" if task.pricing == Pricing.FIXED else "budget"
        _check_floor(amount_cents, task.estimated_minutes, params_module.current(), what,
                     "amount")
        changes = {Task.pay_per_hour_cents: pay_per_hour(amount_cents, task.estimated_minutes)}
        changes[Task.price_cents if what == "price" else Task.budget_cents] = amount_cents
        Task.update(changes).where(Task.id == task.id).execute()
    return Task.get_by_id(task.id)


def cancel_task(client: User, task_id: int) -> Task:
    """Cancel a task of the client's that nobody has started."""
    _require_client(client)
    with write_transaction():
        task = _get_task(task_id)
        if task.client_id != client.id:
            raise NotFound(_("No such task."))
        rows = (
            Task.update(state=TaskState.CANCELLED)
            .where(
                (Task.id == task.id)
                & (Task.state == TaskState.OPEN)
                & (Task.member.is_null())
            )
            .execute()
        )
        if rows != 1:
            raise DomainError(_("Only a task nobody has started can be cancelled."))
        Bid.update(state=BidState.NOT_SELECTED, updated_at=utcnow()).where(
            (Bid.task == task.id) & (Bid.state == BidState.LIVE)
        ).execute()
    return Task.get_by_id(task.id)


# ---------------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------------


def _check_claimable(task: Task, member: User, now: datetime) -> None:
    if task.state != TaskState.OPEN:
        if task.member_id == member.id:
            raise DomainError(_("You already hold this task."))
        if task.state == TaskState.CANCELLED:
            raise DomainError(_("The client cancelled this task."))
        raise Conflict(_("Someone else claimed this task first."))
    if task.deadline <= now:
        raise DomainError(_("The delivery deadline has passed."))


def claim_task(member: User, task_id: int) -> Task:
    """Claim an open fixed-price task: the first claim wins, within the member's limits."""
    _require_member(member)
    now = utcnow()
    with write_transaction():
        fresh = _lock_user(member)
        task = _get_task(task_id)
        if task.pricing != Pricing.FIXED:
            raise DomainError(_("This task is open to bids: place a bid instead."))
        _check_claimable(task, fresh, now)
        check_limits(fresh, task, now)
        _assign(task, fresh, task.price_cents, now, mode="claim")
    return Task.get_by_id(task.id)


def claim_refusal(member: User, task: Task, now: datetime) -> str | None:
    """Return why member could not claim this open task now (a cap, sensitive content, the
    floor), or None: the page says so instead of offering a button that would refuse. Reads
    only; claim_task checks the same rules again under its lock."""
    try:
        _check_claimable(task, member, now)
        check_limits(member, task, now)
        _check_floor_in_force(task, task.price_cents or 0, params_module.current(), "claim")
    except DomainError as error:
        return error.message
    return None


def release_task(member: User, task_id: int) -> Task:
    """Hand a task the member holds back to the board."""
    _require_member(member)
    with write_transaction():
        task = _get_task(task_id, lock=True)
        if task.member_id != member.id:
            raise NotFound(_("No such task."))
        if task.state not in RELEASABLE_STATES:
            raise DomainError(
                _("Only a task you are working on, or one the client rejected, can be released.")
            )
        _reopen(task)
    return Task.get_by_id(task.id)


def return_overdue_tasks(now: datetime) -> int:
    """Put back on the board every assigned task not delivered by its deadline; return how many."""
    returned = 0
    with write_transaction():
        overdue = locked(
            Task.select().where((Task.state == TaskState.ASSIGNED) & (Task.deadline < now))
        )
        for task in list(overdue):
            _reopen(task)
            returned += 1
    return returned


# ---------------------------------------------------------------------------------------------
# Bids and awards
# ---------------------------------------------------------------------------------------------


def _biddable_task(task_id: int, now: datetime) -> Task:
    task = _get_task(task_id, lock=True)
    if task.pricing != Pricing.BIDS:
        raise DomainError(_("This task has a fixed price: claim it instead of bidding."))
    if task.state != TaskState.OPEN:
        raise DomainError(_("Bidding is closed: this task is no longer open."))
    if task.bidding_deadline is not None and task.bidding_deadline <= now:
        raise DomainError(_("The bidding deadline has passed."))
    return task


def place_bid(
    member: User, task_id: int, *, amount_cents: int, eta_hours: int, note: str = ""
) -> Bid:
    """Place a bid, or revise (or revive) the member's bid on this task."""
    _require_member(member)
    now = utcnow()
    amount_cents = _check_amount(amount_cents, "amount")
    if not isinstance(eta_hours, int) or not 1 <= eta_hours <= MAX_ETA_HOURS:
        raise DomainError(
            _("Between 1 and %(max)s hours, please.", max=MAX_ETA_HOURS), field="eta_hours"
        )
    note = _check_text(note, "note", MAX_BID_NOTE, required=False)
    with write_transaction():
        fresh = _lock_user(member)
        task = _biddable_task(task_id, now)
        if task.sensitive and not fresh.sensitive_opt_in:
            raise DomainError(
                _(
                    "This task is flagged as sensitive content: only members who accept "
                    "sensitive tasks in their settings may bid."
                )
            )
        if amount_cents > task.budget_cents:
            raise DomainError(
                _(
                    "Your bid is above the client's budget of %(budget)s.",
                    budget=format_money(task.budget_cents),
                ),
                field="amount",
            )
        _check_floor(amount_cents, task.estimated_minutes, params_module.current(), "bid",
                     "amount")
        bid = Bid.get_or_none((Bid.task == task.id) & (Bid.member == fresh.id))
        if bid is None:
            return Bid.create(
                task=task.id,
                member=fresh.id,
                amount_cents=amount_cents,
                eta_hours=eta_hours,
                note=note,
                created_at=now,
                updated_at=now,
            )
        bid.amount_cents, bid.eta_hours, bid.note = amount_cents, eta_hours, note
        bid.state, bid.updated_at = BidState.LIVE, now
        bid.save()
        return bid


def withdraw_bid(member: User, task_id: int) -> Bid:
    """Withdraw the member's live bid on a task (possible until the award)."""
    _require_member(member)
    with write_transaction():
        _lock_user(member)
        task = _get_task(task_id, lock=True)
        bid = Bid.get_or_none((Bid.task == task.id) & (Bid.member == member.id))
        if bid is None:
            raise NotFound(_("You have no bid on this task."))
        if bid.state != BidState.LIVE or task.state != TaskState.OPEN:
            raise DomainError(_("Only a live bid on an open task can be withdrawn."))
        bid.state, bid.updated_at = BidState.WITHDRAWN, utcnow()
        bid.save()
        return bid


def award_bid(client: User, bid_id: int) -> Task:
    """Award the task to one live bid: the task is assigned at the bid's amount, once."""
    _require_client(client)
    now = utcnow()
    with write_transaction():
        bid = Bid.get_or_none(Bid.id == bid_id)
        if bid is None:
            raise NotFound(_("No such bid."))
        task = _get_task(bid.task_id)
        if task.client_id != client.id:
            raise NotFound(_("No such bid."))
        if task.state != TaskState.OPEN:
            raise Conflict(_("This task has already been awarded or closed."))
        if bid.state != BidState.LIVE:
            raise DomainError(_("This bid is no longer live."))
        if task.deadline <= now:
            raise DomainError(_("The delivery deadline has passed."))
        bidder = _lock_user(User(id=bid.member_id))
        check_limits(bidder, task, now)
        _assign(task, bidder, bid.amount_cents, now, mode="bid")
        Bid.update(state=BidState.AWARDED, updated_at=now).where(Bid.id == bid.id).execute()
        Bid.update(state=BidState.NOT_SELECTED, updated_at=now).where(
            (Bid.task == task.id) & (Bid.state == BidState.LIVE) & (Bid.id != bid.id)
        ).execute()
        notify(
            [bidder.id],
            NotificationKind.BID_AWARDED,
            f"task:{task.id}",
            title=task.title,
            cents=bid.amount_cents,
        )
    return Task.get_by_id(task.id)


# ---------------------------------------------------------------------------------------------
# Reads for the pages
# ---------------------------------------------------------------------------------------------


def track_records(member_ids: Iterable[int]) -> dict[int, TrackRecord]:
    """Return each member's track record: completed tasks and accepted/reviewed deliveries."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    completed = dict(
        Earning.select(Earning.member, peewee.fn.COUNT(Earning.id))
        .where(Earning.member.in_(ids))
        .group_by(Earning.member)
        .tuples()
    )
    accepted_case = peewee.Case(None, [(Delivery.state == DeliveryState.ACCEPTED, 1)], 0)
    reviews = {
        member_id: (int(accepted or 0), int(reviewed))
        for member_id, accepted, reviewed in Delivery.select(
            Delivery.member, peewee.fn.SUM(accepted_case), peewee.fn.COUNT(Delivery.id)
        )
        .where(
            Delivery.member.in_(ids)
            & Delivery.state.in_((DeliveryState.ACCEPTED, DeliveryState.REJECTED))
        )
        .group_by(Delivery.member)
        .tuples()
    }
    return {
        i: TrackRecord(completed.get(i, 0), *reviews.get(i, (0, 0))) for i in ids
    }


@dataclass(frozen=True)
class BoardFilters:
    q: str = ""  # words searched in title and description ("": no search)
    category: str = ""
    pricing: str = ""
    sensitive: str = ""  # "", "yes" or "no"
    sort: str = "pay"  # "pay", "deadline" or "newest"


@dataclass(frozen=True)
class BoardPage:
    tasks: list
    page: int
    pages: int  # pages counted so far (a lower bound when more_pages)
    total: int  # tasks counted, up to the cap
    more_pages: bool  # the count hit its cap: there are more tasks than counted


BOARD_COLUMNS = (
    Task.id,
    Task.title,
    Task.category,
    Task.pricing,
    Task.price_cents,
    Task.budget_cents,
    Task.pay_per_hour_cents,
    Task.estimated_minutes,
    Task.deadline,
    Task.bidding_deadline,
    Task.sensitive,
    Task.content_note,
    Task.created_at,
)


def board_page(viewer: User, filters: BoardFilters, page: int, per_page: int) -> BoardPage:
    """Return one page of open tasks for the board, counting only a few pages ahead."""
    where = Task.state == TaskState.OPEN
    words = search.terms(filters.q)
    if words:
        where &= search.matching(words)
    if filters.category:
        where &= Task.category == filters.category
    if filters.pricing:
        where &= Task.pricing == filters.pricing
    # Members who did not opt in never see sensitive tasks on the board.
    if filters.sensitive == "no" or not viewer.sensitive_opt_in:
        where &= Task.sensitive == False  # noqa: E712 (peewee expression)
    if filters.sensitive == "yes":
        where &= Task.sensitive == True  # noqa: E712
    order = {
        "pay": (Task.pay_per_hour_cents.desc(), Task.id.desc()),
        "deadline": (Task.deadline.asc(), Task.id.asc()),
        "newest": (Task.id.desc(),),
    }[filters.sort]
    # Counting every match costs a row lookup each (most filters are not in one index), and the
    # pager only needs to know what lies a few pages ahead: count up to there, and no further.
    cap = min(COUNT_CAP, (page - 1 + PAGES_AHEAD) * per_page)
    if words and page * per_page <= cap:
        # A search's matches are looked up once, not once to count and once for the page: the
        # ids in order up to the cap give both, then the page's rows are read by id.
        by = search.sorted_after_matching(order)
        matches = Task.select(Task.id).where(where).order_by(*by).limit(cap + 1)
        ids = [task_id for (task_id,) in matches.tuples()]
        total = len(ids)
        shown = ids[(page - 1) * per_page : page * per_page]
        tasks = (
            list(Task.select(*BOARD_COLUMNS).where(Task.id.in_(shown)).order_by(*order))
            if shown else []
        )
    else:
        total = Task.select(Task.id).where(where).limit(cap + 1).count()
        tasks = list(
            Task.select(*BOARD_COLUMNS)
            .where(where)
            .order_by(*order)
            .paginate(page, per_page)
        )
    more = total > cap
    total = min(total, cap)
    pages = max(1, -(-total // per_page))
    if more and page >= pages:
        pages = page + 1 if tasks else page
    return BoardPage(tasks, page, pages, total, more)


def open_counts() -> dict[str, int]:
    """Return how many tasks are open in each category."""
    rows = (
        Task.select(Task.category, peewee.fn.COUNT(Task.id))
        .where(Task.state == TaskState.OPEN)
        .group_by(Task.category)
        .tuples()
    )
    return {category: int(n) for category, n in rows}


def visible_task(viewer: User, task_id: int) -> Task:
    """Return the task if viewer may see it, else raise NotFound."""
    task = Task.get_or_none(Task.id == task_id)
    if task is None or not can_see_task(viewer, task):
        raise NotFound(_("No such task."))
    return task


def visible_attachment(viewer: User, task_id: int, attachment_id: int) -> TaskAttachment:
    """Return the attachment if viewer may see the task and its content, else raise NotFound."""
    task = visible_task(viewer, task_id)
    attachment = TaskAttachment.get_or_none(
        (TaskAttachment.id == attachment_id) & (TaskAttachment.task == task.id)
    )
    if attachment is None or content_hidden(viewer, task):
        raise NotFound(_("No such file."))
    return attachment


def bids_for_client(task: Task) -> list[Bid]:
    """Return the task's bids for its client, cheapest first then fastest, with pseudonyms."""
    return list(
        Bid.select(Bid, User.id, User.pseudonym)
        .join(User, on=(Bid.member == User.id))
        .where(Bid.task == task.id)
        .order_by(
            peewee.Case(None, [(Bid.state == BidState.LIVE, 0)], 1),
            Bid.amount_cents,
            Bid.eta_hours,
            Bid.id,
        )
    )


def bid_of(member: User, task: Task) -> Bid | None:
    """Return member's bid on task, if any."""
    return Bid.get_or_none((Bid.task == task.id) & (Bid.member == member.id))
