"""A fiscal year's figures from its closed months: the result that decides, advances, balances.

Months are provisional, the year decides (loi 78-763, art. 33 applies to the year's result).
Pure functions over dataclasses, no database, like `allocation`: the year close, each month's
advance, the worked annual example in docs/profit-sharing.md and the property tests all go
through `compute_year`, which splits the year's result with the month's own code
(`compute_period`), so the art. 33 rules are enforced in one place.
"""

from dataclasses import dataclass, field

from coop.params import Params
from coop.statements.allocation import Holder, MonthFigures, Work, compute_period


@dataclass(frozen=True)
class MonthResult:
    """What a month contributes to its fiscal year (from its frozen figures once closed)."""

    month: str  # YYYY-MM
    margins_cents: int
    expenses_cents: int
    work: dict[int, Work]  # member id -> what they did in the month
    categories: dict[str, int] = field(default_factory=dict)

    @property
    def result_cents(self) -> int:
        return self.margins_cents - self.expenses_cents


def year_period(year: int) -> str:
    """Return the period name a fiscal year's leftover-cent queue is keyed on: "FY2025"."""
    return f"FY{year}"


def compute_year(
    months: list[MonthResult],
    holders: list[Holder],
    loss_brought_cents: int,
    params: Params,
    order: dict[int, bytes] | None = None,
    highest_capital_cents: int | None = None,
    legal_reserve_before_cents: int = 0,
) -> MonthFigures:
    """Split the year's result: the months' margins less their expenses, less prior losses.

    The months' own loss chain is ignored: a loss month simply lowers the year's result. A
    negative result is the year's loss, carried to the next year. Each member's work share
    uses their work over the whole year; dividends use the capital held over the year
    (holders' time-weighted capital).
    """
    work: dict[int, Work] = {}
    categories: dict[str, int] = {}
    for month in months:
        for member_id, done in month.work.items():
            row = work.get(member_id, Work(0, 0, 0, 0))
            work[member_id] = Work(row.tasks + done.tasks, row.minutes + done.minutes,
                                   row.gross_cents + done.gross_cents,
                                   row.earnings_cents + done.earnings_cents)
        for category, cents in month.categories.items():
            categories[category] = categories.get(category, 0) + cents
    return compute_period(
        work,
        sum(m.margins_cents for m in months),
        categories,
        holders,
        sum(m.expenses_cents for m in months),
        loss_brought_cents,
        params,
        order,
        highest_capital_cents,
        legal_reserve_before_cents,
        # A member whose year nets no pay (only pay taken back by a fraud finding) worked for
        # nobody this year and shares no work pot.
        worker_ids={m for m, done in work.items() if done.earnings_cents > 0},
    )


def advance(ytd_work_share_cents: int, paid_cents: int, params: Params) -> int:
    """Return the advance a month pays on a member's work share.

    Advances paid so far may reach `advance_rate_bp` of the member's work share of the
    year-to-date result (rounded down), never more: a month pays the difference, or nothing
    if a loss has lowered the year-to-date result below what was already advanced.
    """
    if not params.work_share_advances:
        return 0
    cap = ytd_work_share_cents * params.advance_rate_bp // 10000
    return max(0, cap - paid_cents)


def month_advances(
    year_so_far: list[MonthResult],
    loss_brought_cents: int,
    paid: dict[int, int],
    params: Params,
    order: dict[int, bytes] | None = None,
) -> dict[int, int]:
    """Return {member id: advance} for the last month of year_so_far (the month closing).

    year_so_far holds the fiscal year's months up to and including it; paid is what each
    member was advanced in the months before.
    """
    ytd = compute_year(year_so_far, [], loss_brought_cents, params, order)
    shares = {m.member_id: m.work_share_cents for m in ytd.members}
    return {member_id: advance(share, paid.get(member_id, 0), params)
            for member_id, share in shares.items()}


@dataclass(frozen=True)
class Reconciliation:
    """A member's work share for the year against what the months advanced.

    balance_due is paid at the year's close. Advances may exceed the year's share only if a
    later loss (or the others' later work, under the earnings or hours key) shrank it below
    what was advanced: the member keeps them, and the excess is deducted from their next
    years' work share (excess_carried, brought to the next year).
    """

    work_share_cents: int
    advances_cents: int
    excess_brought_cents: int
    balance_due_cents: int
    excess_carried_cents: int


def reconcile(work_share_cents: int, advances_cents: int, excess_brought_cents: int = 0) -> (
    Reconciliation
):
    """Return the year's balance for a member: never negative, the excess carried instead."""
    owed = work_share_cents - advances_cents - excess_brought_cents
    return Reconciliation(work_share_cents, advances_cents, excess_brought_cents,
                          max(0, owed), max(0, -owed))


__all__ = [
    "MonthResult",
    "Reconciliation",
    "advance",
    "compute_year",
    "month_advances",
    "reconcile",
    "year_period",
]
