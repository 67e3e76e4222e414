"""Fiscal years on the coop's calendar, and what their closed months contribute.

A fiscal year is named by the calendar year it starts in and runs twelve months from the 1st
of the board's `fiscal_year_start_month`. Reads only: the year's close is in `year_close`.
"""

from coop import calendar
from coop.statements.allocation import Work
from coop.statements.annual import MonthResult
from coop.statements.models import FiscalYear, Period, Statement


def fiscal_year_of(month: str, start_month: int) -> int:
    """Return the fiscal year holding a YYYY-MM month, for years starting in start_month."""
    year, number = int(month[:4]), int(month[5:7])
    return year if number >= start_month else year - 1


def year_months(year: int, start_month: int) -> list[str]:
    """Return the twelve months of a fiscal year, YYYY-MM, in order."""
    first = f"{year:04d}-{start_month:02d}"
    return [calendar.shift_month(first, i) for i in range(12)]


def year_bounds(year: int, start_month: int) -> tuple[int, int]:
    """Return the fiscal year's [start, end) in unix nanoseconds, in the coop's time zone."""
    months = year_months(year, start_month)
    return calendar.month_span(months[0]).start_ns, calendar.month_span(months[-1]).end_ns


def is_first_month(month: str, start_month: int) -> bool:
    return int(month[5:7]) == start_month


def month_result(period: Period, statements: list[Statement]) -> MonthResult:
    """Return what a closed month contributes to its year, from its frozen figures alone."""
    totals = period.totals_data
    work = {}
    for st in statements:
        f = st.figures_data["figures"]
        if f["tasks"] > 0:  # members who only held capital did no work that month
            work[f["member_id"]] = Work(f["tasks"], f["minutes"], f["gross_cents"],
                                        f["earnings_cents"])
    return MonthResult(period.month, totals["margins_cents"], totals["expenses_cents"], work,
                       dict(totals.get("earnings_by_category", {})))


def closed_months(months: list[str]) -> list[tuple[Period, list[Statement]]]:
    """Return the closed periods among months, in order, each with its frozen statements."""
    periods = list(Period.select().where(Period.month.in_(months)).order_by(Period.month))
    statements: dict[int, list[Statement]] = {p.id: [] for p in periods}
    for st in Statement.select().where(Statement.period.in_([p.id for p in periods] or [0])):
        statements[st.period_id].append(st)
    return [(p, statements[p.id]) for p in periods]


def advances_paid(rows: list[tuple[Period, list[Statement]]]) -> dict[int, int]:
    """Return {member id: advances on the work share} the given closed months paid."""
    paid: dict[int, int] = {}
    for _period, statements in rows:
        for st in statements:
            cents = st.figures_data["figures"].get("advance_cents", 0)
            if cents:
                paid[st.member_id] = paid.get(st.member_id, 0) + cents
    return paid


def closed_year(year: int) -> FiscalYear | None:
    return FiscalYear.get_or_none(FiscalYear.year == year)


def loss_brought(year: int) -> int:
    """Return the loss the year before carried forward (0 if it made none, or is not closed)."""
    before = closed_year(year - 1)
    return before.totals_data["loss_carried_cents"] if before else 0


__all__ = [
    "advances_paid",
    "closed_months",
    "closed_year",
    "fiscal_year_of",
    "is_first_month",
    "loss_brought",
    "month_result",
    "year_bounds",
    "year_months",
]
