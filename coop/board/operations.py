"""Board operations: changing the coop's parameters, and the figures the board reads."""

from dataclasses import dataclass, fields
from datetime import datetime

from flask_babel import gettext as _
from peewee import JOIN, Case, fn

from coop.audit.events import record
from coop.auth.roles import require_board as _require_board
from coop.db import locked, write_transaction
from coop.delivery.operations import ReviewStats, clients_by_rejection_rate
from coop.errors import DomainError
from coop.market.pages import first_rows
from coop.models import (
    Dispute,
    DisputeState,
    Earning,
    Event,
    MemberStatus,
    Parameter,
    Role,
    Task,
    TaskState,
    User,
    utcnow,
)
from coop.params import Params, current, rule_violations

PARAMETER_NAMES = tuple(f.name for f in fields(Params))
MEMBER_ROLES = (Role.MEMBER, Role.BOARD)


class InvalidParameters(DomainError):
    """The parameters break a bound or a rule; errors maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def update_parameters(actor: User, values: dict[str, int]) -> Params:
    """Change the parameters given in values; record one event when anything changed.

    :raises InvalidParameters: a value is unknown, not an integer, out of bounds or breaks a
        SCOP rule; nothing is saved then.
    """
    _require_board(actor)
    with write_transaction():
        return apply_parameters(values)


def check_parameter_values(values: dict[str, int]) -> None:
    """Refuse unknown names and values that are not whole numbers.

    :raises InvalidParameters: with a message per bad field.
    """
    errors = {}
    for key, value in values.items():
        if key not in PARAMETER_NAMES:
            errors[key] = _("Unknown parameter: %(name)s", name=key)
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[key] = _("Must be a whole number.")
    if errors:
        raise InvalidParameters(errors)


def apply_parameters(values: dict[str, int], **because) -> Params:
    """Store the changed values and record them, inside the caller's write transaction.

    because adds to the ledger entry why they changed (the vote that decided it); the board's
    page and a passed vote both come through here, so the same rules hold for both.
    :raises InvalidParameters: as `update_parameters`.
    """
    check_parameter_values(values)
    with write_transaction():
        stored = {p.key: int(p.value) for p in locked(Parameter.select())}
        old = Params(**{k: v for k, v in stored.items() if k in PARAMETER_NAMES})
        new = Params(**{**old.as_dict(), **values})
        problems = rule_violations(new)
        if problems:
            raise InvalidParameters(problems)
        changed = sorted(k for k in values if getattr(new, k) != getattr(old, k))
        if not changed:
            return old
        if "fiscal_year_start_month" in changed and _any_month_closed():
            # Years are cut from the first closed month on: moving the start would make the
            # next fiscal year overlap the months already counted in another.
            raise InvalidParameters({"fiscal_year_start_month": _(
                "The fiscal year's first month is fixed once a month is closed.")})
        now = utcnow()
        for key in changed:
            (
                Parameter.insert(key=key, value=getattr(new, key), updated_at=now)
                .on_conflict(
                    conflict_target=[Parameter.key],
                    update={Parameter.value: getattr(new, key), Parameter.updated_at: now},
                )
                .execute()
            )
        record("parameters.changed", "parameters", **new.as_dict(), changed=changed, **because)
    return new


def _any_month_closed() -> bool:
    from coop.statements.models import Period

    return Period.select().exists()


@dataclass(frozen=True)
class MemberRow:
    """One line of the members page."""

    id: int
    name: str
    pseudonym: str
    email: str
    status: str
    is_board: bool
    sensitive_opt_in: bool
    capital_cents: int
    tasks_completed: int
    earnings_month_cents: int
    earnings_total_cents: int
    disabled: bool


def members_overview(
    actor: User, month_start: datetime, offset: int = 0, limit: int | None = None
) -> list[MemberRow]:
    """Return members (limit of them from offset; all by default) with their completed tasks
    and earnings, in one query."""
    _require_board(actor)
    this_month = Case(None, [(Earning.created_at >= month_start, Earning.earnings_cents)], 0)
    query = (
        User.select(
            User,
            fn.COUNT(Earning.id).alias("completed"),
            fn.COALESCE(fn.SUM(Earning.earnings_cents), 0).alias("total"),
            fn.COALESCE(fn.SUM(this_month), 0).alias("month"),
        )
        .join(Earning, JOIN.LEFT_OUTER, on=(Earning.member == User.id))
        .where(User.role.in_(MEMBER_ROLES))
        .group_by(User.id)
        .order_by(User.member_status, fn.LOWER(User.name), User.id)
        .offset(offset)
        .limit(limit)
    )
    return [
        MemberRow(
            id=u.id,
            name=u.name,
            pseudonym=u.pseudonym,
            email=u.email,
            status=u.member_status or "",
            is_board=u.role == Role.BOARD,
            sensitive_opt_in=u.sensitive_opt_in,
            capital_cents=int(u.capital_cents),
            tasks_completed=int(u.completed),
            earnings_month_cents=int(u.month),
            earnings_total_cents=int(u.total),
            disabled=u.disabled_at is not None,
        )
        for u in query
    ]


@dataclass(frozen=True)
class ClientRow:
    """A client's record of reviews, for the board: rejected out of reviewed deliveries."""

    id: int
    name: str
    email: str
    rejected: int
    reviewed: int
    rate_bp: int
    held_for_board: bool  # their next rejection waits for the board


CLIENTS_PER_PAGE = 50


@dataclass(frozen=True)
class ClientsPage:
    rows: list[ClientRow]
    page: int
    has_next: bool


def clients_overview(actor: User, page: int = 1, per_page: int | None = None) -> ClientsPage:
    """Return one page (CLIENTS_PER_PAGE by default) of the clients with a review, highest
    rejection rate first."""
    _require_board(actor)
    per_page = per_page or CLIENTS_PER_PAGE
    threshold = current()
    found, has_next = first_rows(
        clients_by_rejection_rate().offset((page - 1) * per_page), per_page
    )
    users = {u.id: u for u in User.select().where(User.id.in_([i for i, _r, _v in found] or [0]))}
    rows = []
    for client_id, rejected, reviewed in found:
        stats = ReviewStats(int(rejected), int(reviewed))
        user = users[client_id]
        rows.append(ClientRow(
            id=client_id,
            name=user.name,
            email=user.email,
            rejected=stats.rejected,
            reviewed=stats.reviewed,
            rate_bp=stats.rate_bp,
            held_for_board=stats.held_for_board(threshold),
        ))
    return ClientsPage(rows, page, has_next)


@dataclass(frozen=True)
class Decision:
    """An application the board decided: admitted (with when) or declined (with why)."""

    id: int
    name: str
    email: str
    status: str
    decided_at: datetime | None
    reason: str


def pending_applications(actor: User) -> list[User]:
    """Return the applications waiting for the board, oldest first."""
    _require_board(actor)
    return list(
        User.select()
        .where(User.role.in_(MEMBER_ROLES) & (User.member_status == MemberStatus.APPLICANT))
        .order_by(User.created_at, User.id)
    )


def recent_decisions(actor: User, limit: int = 20) -> list[Decision]:
    """Return the latest admissions (dated by their event) and declines (dated since m0022)."""
    _require_board(actor)
    admitted = list(
        Event.select(Event.subject, Event.created_at)
        .where(Event.kind == "member.admitted")
        .order_by(Event.id.desc())
        .limit(limit)
    )
    when = {int(e.subject.split(":")[1]): e.created_at for e in admitted}
    users = list(
        User.select()
        .where(
            User.id.in_(list(when) or [0])
            | (User.role.in_(MEMBER_ROLES) & (User.member_status == MemberStatus.DECLINED))
        )
        .order_by(User.id.desc())
    )
    decisions = []
    for u in users:
        declined = u.member_status == MemberStatus.DECLINED
        decisions.append(
            Decision(
                id=u.id,
                name=u.name,
                email=u.email,
                status=u.member_status or "",
                # A decline from before m0022 has no date; it sorts after the dated ones.
                decided_at=u.declined_at if declined else when.get(u.id),
                reason=u.decline_reason if declined else "",
            )
        )
    decisions.sort(key=lambda d: (d.decided_at is not None, d.decided_at or 0, d.id), reverse=True)
    return decisions[:limit]


@dataclass(frozen=True)
class Dashboard:
    """The figures on the board's dashboard."""

    pending_applications: int
    open_disputes: int
    tasks_by_state: dict[str, int]
    completed_this_month: int
    earnings_month_cents: int
    margin_month_cents: int
    active_members: int


def dashboard_figures(actor: User, month_start: datetime) -> Dashboard:
    """Return the counts and this month's money for the board's dashboard."""
    _require_board(actor)
    by_state = dict.fromkeys(TaskState, 0)
    for row in Task.select(Task.state, fn.COUNT(Task.id).alias("n")).group_by(Task.state):
        by_state[TaskState(row.state)] = int(row.n)
    month = (
        Earning.select(
            fn.COUNT(Earning.id).alias("n"),
            fn.COALESCE(fn.SUM(Earning.earnings_cents), 0).alias("earnings"),
            fn.COALESCE(fn.SUM(Earning.margin_cents), 0).alias("margin"),
        )
        .where(Earning.created_at >= month_start)
        .get()
    )
    members = User.select().where(User.role.in_(MEMBER_ROLES))
    return Dashboard(
        pending_applications=members.where(User.member_status == MemberStatus.APPLICANT).count(),
        open_disputes=Dispute.select().where(Dispute.state == DisputeState.OPEN).count(),
        tasks_by_state={str(state): n for state, n in by_state.items()},
        completed_this_month=int(month.n),
        earnings_month_cents=int(month.earnings),
        margin_month_cents=int(month.margin),
        active_members=members.where(User.member_status == MemberStatus.ACTIVE).count(),
    )
