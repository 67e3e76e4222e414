"""The statements page, built as plain values (links included) for the template."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for

from coop import calendar, jobs
from coop.models import JobKind, User
from coop.statements.models import Expense, FiscalYear, Period, Statement
from coop.statements.operations import current_month, first_open_month, pending_count


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class ExpenseRow:
    id: int
    label: str
    amount_cents: int
    edit_url: str  # correct or delete it (only while its month is open)


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
    close_url: str  # the close's confirmation page
    closable: bool  # ended, and the first open month (months close in order)
    pending: int = 0  # PDFs of a closed month not issued yet
    job_url: str | None = None  # the issuing job, running or last run
    job_active: bool = False  # a worker has it (or will); else the board may queue it again
    issue_url: str = ""


@dataclass(frozen=True)
class OwnRow:
    month: str
    total_cents: int  # provisional: the year decides
    url: str
    advance_cents: int = 0  # the advance on the year's work share the month paid


@dataclass(frozen=True)
class YearLink:
    year: int
    closed: bool
    url: str


@dataclass(frozen=True)
class Overview:
    """What the statements page shows: months for the board, own statements for a member."""

    current: str
    draft_url: str  # the viewer's own statement of the month in progress
    own: list[OwnRow]
    closed: list[tuple[str, int, str]]  # (month, surplus cents, summary URL): every closed month
    # The board's view: the months still open (the one to close next first, then the month in
    # progress), the open months that wait for it, and every closed month, newest first.
    open_months: list[MonthRow] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    closed_months: list[MonthRow] = field(default_factory=list)
    years: list[YearLink] = field(default_factory=list)  # newest first

    @property
    def months(self) -> list[MonthRow]:
        return [*self.open_months, *self.closed_months]


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


def _years(now: datetime | None) -> list[YearLink]:
    """Return the fiscal years from the coop's first closed month to this one, newest first."""
    from coop.statements import year_close

    first = year_close.first_closed_month()
    this = year_close.current_year(now)
    start = year_close.year_of(first) if first else this
    closed = {fy.year for fy in FiscalYear.select(FiscalYear.year)}
    return [YearLink(y, y in closed, url_for("statements.year", year=y))
            for y in range(this, start - 1, -1)]


def overview(actor: User, now: datetime | None = None) -> Overview:
    """Return the statements page's content for actor."""
    current = current_month(now)
    own_rows = (
        Statement.select(Statement.figures, Period.month).join(Period)
        .where(Statement.member == actor.id).order_by(Period.month.desc())
    )
    own = [
        OwnRow(r.period.month, r.figures_data["figures"]["total_cents"],
               _statement_url(r.period.month, actor.id),
               r.figures_data["figures"].get("advance_cents", 0))
        for r in own_rows
    ]
    closed = [
        (p.month, p.totals_data["surplus_cents"], url_for("statements.summary", month=p.month))
        for p in Period.select().order_by(Period.month.desc())
    ]
    open_months: list[MonthRow] = []
    closed_months: list[MonthRow] = []
    waiting: list[str] = []
    if actor.is_board:
        periods = {p.month: p for p in Period.select()}
        # The month to close next (however old, or it could never be closed), then this one.
        first_open = first_open_month()
        shown_open = [m for m in (first_open, current) if m and m <= current]
        shown_open = sorted(set(shown_open))
        if shown_open and shown_open[0] < current:
            month = calendar.shift_month(shown_open[0], 1)
            while month < current:
                waiting.append(month)
                month = calendar.shift_month(month, 1)
        months = [*shown_open, *periods]
        expenses: dict[str, list] = {}
        for e in Expense.select().where(Expense.month.in_(months)).order_by(Expense.id):
            edit = url_for("statements.edit_expense", expense_id=e.id)
            expenses.setdefault(e.month, []).append(ExpenseRow(e.id, e.label, e.amount_cents, edit))
        issued: dict[str, list] = {}
        # The member's id comes from the joined User row: selecting Statement.member beside a
        # join to User would hand back a User without its id.
        issued_rows = (
            Statement.select(Period.month, User.id, User.name)
            .join(Period).switch(Statement).join(User)
            .order_by(User.name, User.id)
        )
        for st in issued_rows:
            link = Link(st.member.name, _statement_url(st.period.month, st.member.id))
            issued.setdefault(st.period.month, []).append(link)

        def row(month: str) -> MonthRow:
            return _month_row(month, current, periods.get(month), expenses.get(month, []),
                              issued.get(month, []), first_open)

        open_months = [row(m) for m in shown_open]
        closed_months = [row(m) for m in sorted(periods, reverse=True)]
    return Overview(
        years=_years(now),
        current=current,
        draft_url=_statement_url(current, actor.id, draft=True),
        own=own,
        closed=closed,
        open_months=open_months,
        waiting=waiting,
        closed_months=closed_months,
    )


@dataclass(frozen=True)
class YearMemberRow:
    pseudonym: str
    work_share_cents: int
    advances_cents: int
    balance_due_cents: int
    excess_carried_cents: int
    dividend_cents: int
    statement_url: str | None  # only the member's own, or every one for the board


@dataclass(frozen=True)
class YearView:
    """A fiscal year's page: its months, and once closed (or as a board draft) its figures."""

    year: int
    label: str
    closed: bool
    months: list[tuple[str, bool]]  # (month, closed) for the months the coop has lived
    totals: dict | None  # None: not closed, and not the board's draft
    members: list[YearMemberRow]
    refusal: str | None  # why the board cannot close it now
    close_url: str
    ledger_index: int | None = None
    # The issuing of the annual PDFs once closed (a worker does it, as for a month's).
    pending: int = 0  # annual PDFs not issued yet
    issued: int = 0
    job_url: str | None = None  # the issuing job, running or last run
    job_active: bool = False  # a worker has it (or will); else the board may queue it again
    issue_url: str = ""


def year_view(actor: User, year: int) -> YearView:
    """Return the fiscal year's page for actor: the coop's figures are every member's."""
    from coop.statements import year_close
    from coop.statements.models import AnnualStatement

    fiscal_year = year_close.years.closed_year(year)
    months = year_close.months_of(year)
    closed = {p.month for p in Period.select(Period.month).where(Period.month.in_(months))}
    totals, rows = None, []
    if fiscal_year is not None:
        totals = fiscal_year.totals_data
        stored = AnnualStatement.select(AnnualStatement.member, AnnualStatement.figures).where(
            AnnualStatement.fiscal_year == fiscal_year)
        figures = [st.figures_data for st in stored]
    elif actor.is_board and not year_close.close_refusal(year):
        data = year_close.compute(year)  # the board's preview, computed and not kept
        totals, figures = data.totals, data.members
    else:
        figures = []
    pending = year_close.pending_count(fiscal_year) if fiscal_year is not None else 0
    job = year_close.issuing_job(year) if fiscal_year is not None else None
    for f in sorted(figures, key=lambda f: f["pseudonym"]):
        # Linked once every PDF is issued: a download before would only say to come back.
        mine = (fiscal_year is not None and not pending
                and (actor.is_board or f["member_id"] == actor.id))
        rows.append(YearMemberRow(
            f["pseudonym"], f["work_share_cents"], f["advances_cents"], f["balance_due_cents"],
            f["excess_carried_cents"], f["dividend_cents"],
            url_for("statements.annual_statement", year=year, member_id=f["member_id"])
            if mine else None))
    return YearView(
        year=year,
        label=year_close.year_label(year),
        closed=fiscal_year is not None,
        months=[(m, m in closed) for m in months],
        totals=totals,
        members=rows,
        refusal=year_close.close_refusal(year) if actor.is_board else None,
        close_url=url_for("statements.close_year", year=year),
        ledger_index=fiscal_year.ledger_index if fiscal_year else None,
        pending=pending,
        issued=len(figures) - pending if fiscal_year is not None else 0,
        job_url=url_for("jobs.show", job_id=job.id) if job and actor.is_board else None,
        job_active=job is not None and job.state in jobs.ACTIVE,
        issue_url=url_for("statements.issue_year", year=year),
    )
