"""The statements page, built as plain values (links included) for the template."""

from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from coop import calendar, jobs
from coop.models import JobKind, User
from coop.statements.models import Expense, Period, Statement
from coop.statements.operations import current_month, first_open_month, pending_count


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class ExpenseRow:
    label: str
    amount_cents: int


@dataclass(frozen=True)
class MonthRow:
    month: str
    closed: bool
    ended: bool
    surplus_cents: int | None
    expenses: list[ExpenseRow]
    statements: list[Link]  # one per member with a statement in a closed month, by name
    summary_url: str  # the issued summary once closed, else its draft
    zip_url: str
    expense_url: str
    close_url: str
    closable: bool  # ended, and the first open month (months close in order)
    pending: int = 0  # PDFs of a closed month not issued yet
    job_url: str | None = None  # the issuing job, running or last run
    job_active: bool = False  # a worker has it (or will); else the board may queue it again
    issue_url: str = ""


@dataclass(frozen=True)
class OwnRow:
    month: str
    total_cents: int
    url: str


@dataclass(frozen=True)
class Overview:
    """What the statements page shows: months for the board, own statements for a member."""

    current: str
    draft_url: str  # the viewer's own statement of the month in progress
    months: list[MonthRow]
    own: list[OwnRow]
    closed: list[tuple[str, int, str]]  # (month, surplus cents, summary URL): every closed month


def _statement_url(month: str, member_id: int, draft: bool = False) -> str:
    extra = {"draft": 1} if draft else {}
    return url_for("statements.member_statement", month=month, member_id=member_id, **extra)


def _month_row(month: str, current: str, period: Period | None, expenses: list,
               statements: list[Link], first_open: str | None) -> MonthRow:
    draft = {} if period is not None else {"draft": 1}
    job = jobs.latest_job(JobKind.ISSUE_STATEMENTS, month) if period is not None else None
    return MonthRow(
        month=month,
        closed=period is not None,
        ended=month < current,
        surplus_cents=period.totals_data["surplus_cents"] if period else None,
        expenses=expenses,
        statements=statements,
        summary_url=url_for("statements.summary", month=month, **draft),
        zip_url=url_for("statements.all_zip", month=month, **draft),
        expense_url=url_for("statements.add_expense", month=month),
        close_url=url_for("statements.close", month=month),
        closable=month < current and month == (first_open or month),
        pending=pending_count(period) if period is not None else 0,
        job_url=url_for("jobs.show", job_id=job.id) if job else None,
        job_active=job is not None and job.state in jobs.ACTIVE,
        issue_url=url_for("statements.issue", month=month),
    )


def overview(actor: User, now: datetime | None = None, months_back: int = 12) -> Overview:
    """Return the statements page's content for actor."""
    current = current_month(now)
    own_rows = (
        Statement.select(Statement.figures, Period.month).join(Period)
        .where(Statement.member == actor.id).order_by(Period.month.desc())
    )
    own = [
        OwnRow(r.period.month, r.figures_data["figures"]["total_cents"],
               _statement_url(r.period.month, actor.id))
        for r in own_rows
    ]
    closed = [
        (p.month, p.totals_data["surplus_cents"], url_for("statements.summary", month=p.month))
        for p in Period.select().order_by(Period.month.desc())
    ]
    rows: list[MonthRow] = []
    if actor.is_board:
        # The last months, and every closed month however old.
        periods = {p.month: p for p in Period.select()}
        recent = {calendar.shift_month(current, -i) for i in range(months_back)}
        # The month to close next is listed however old, or it could never be closed.
        first_open = first_open_month()
        pending = {first_open} if first_open and first_open < current else set()
        months = sorted(recent | set(periods) | pending, reverse=True)
        expenses: dict[str, list] = {}
        for e in Expense.select().where(Expense.month.in_(months)).order_by(Expense.id):
            expenses.setdefault(e.month, []).append(ExpenseRow(e.label, e.amount_cents))
        issued: dict[str, list] = {}
        # The member's id comes from the joined User row: selecting Statement.member beside a
        # join to User would hand back a User without its id.
        issued_rows = (
            Statement.select(Period.month, User.id, User.name)
            .join(Period).switch(Statement).join(User)
            .where(Period.month.in_(months)).order_by(User.name, User.id)
        )
        for st in issued_rows:
            link = Link(st.member.name, _statement_url(st.period.month, st.member.id))
            issued.setdefault(st.period.month, []).append(link)
        for month in months:
            rows.append(_month_row(month, current, periods.get(month),
                                   expenses.get(month, []), issued.get(month, []), first_open))
    return Overview(
        current=current,
        draft_url=_statement_url(current, actor.id, draft=True),
        months=rows,
        own=own,
        closed=closed,
    )
