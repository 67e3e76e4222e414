"""The month's figures from plain inputs: per-member earnings, the surplus and its split.

Pure functions over dataclasses, no database: the month close, the drafts, the worked example
in docs/profit-sharing.md and the property tests all go through `compute_month`. Every split
is by largest remainder (`coop.money.allocate`), so each one sums exactly to its pot.
"""

from dataclasses import asdict, dataclass, field

from coop.money import allocate
from coop.params import Params


@dataclass(frozen=True)
class TaskLine:
    """One task completed in the month, as the ledger dates it."""

    task_id: int
    member_id: int
    ledger_index: int | None
    unix_ns: int
    category: str
    minutes: int
    price_cents: int
    earnings_cents: int
    margin_cents: int
    # A project's accepted answers in the month count as one line per member and project.
    project_id: int | None = None
    answers: int = 0


@dataclass(frozen=True)
class Holder:
    """A member who may receive a share: the capital they hold decides their dividend."""

    member_id: int
    capital_cents: int


@dataclass(frozen=True)
class MemberFigures:
    member_id: int
    tasks: int
    minutes: int
    gross_cents: int
    earnings_cents: int
    work_share_cents: int
    dividend_cents: int
    capital_cents: int

    @property
    def total_cents(self) -> int:
        return self.earnings_cents + self.work_share_cents + self.dividend_cents

    def as_dict(self) -> dict:
        return {**asdict(self), "total_cents": self.total_cents}


@dataclass(frozen=True)
class MonthTotals:
    """The coop's figures for the month, every amount in cents."""

    tasks: int
    minutes: int
    gross_cents: int
    earnings_cents: int
    margins_cents: int
    expenses_cents: int
    loss_brought_cents: int  # carried from the previous closed month
    income_cents: int  # margins - expenses - loss brought forward (may be negative)
    surplus_cents: int
    loss_carried_cents: int  # carried to the next month
    legal_reserve_cents: int
    development_reserve_cents: int
    work_share_cents: int
    dividends_cents: int
    work_share_earnings_cents: int
    work_share_hours_cents: int
    work_share_equal_cents: int
    split_bp: dict = field(default_factory=dict)
    basis_pct: dict = field(default_factory=dict)
    earnings_by_category: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MonthFigures:
    totals: MonthTotals
    members: list[MemberFigures]


def _pro_rata(pot: int, weights: list[int]) -> list[int]:
    """Split pot by weights; when every weight is zero, split it equally instead."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    return allocate(pot, weights)


def split_surplus(surplus: int, params: Params) -> tuple[int, int, int, int]:
    """Split the surplus into legal reserve, development reserve, work share and dividends."""
    legal, development, work, dividends = allocate(
        surplus,
        [
            params.legal_reserve_bp,
            params.development_reserve_bp,
            params.work_share_bp,
            params.dividends_bp,
        ],
    )
    return legal, development, work, dividends


def work_shares(
    pot: int, earnings: list[int], minutes: list[int], params: Params
) -> tuple[list[int], tuple[int, int, int]]:
    """Split the work-share pot among the month's workers by the weighted basis.

    The pot is first cut into three sub-pots by the basis percentages (earnings, hours,
    equal shares); each sub-pot is then shared pro rata to its measure. Returns the shares
    and the three sub-pots.
    """
    pcts = [params.basis_earnings_pct, params.basis_hours_pct, params.basis_equal_pct]
    if not earnings:
        return [], (0, 0, 0)
    by_earnings, by_hours, equal = allocate(pot, pcts)
    parts = [
        _pro_rata(by_earnings, earnings),
        _pro_rata(by_hours, minutes),
        _pro_rata(equal, [1] * len(earnings)),
    ]
    return [sum(column) for column in zip(*parts, strict=True)], (by_earnings, by_hours, equal)


def compute_month(
    lines: list[TaskLine],
    holders: list[Holder],
    expenses_cents: int,
    loss_brought_cents: int,
    params: Params,
) -> MonthFigures:
    """Compute the month: per-member work, the coop's income, the surplus and every share.

    Workers are the members with a completed task in the month; dividends go to every holder
    with capital. A pot nobody can receive (no worker, no capital) goes to the development
    reserve, so the split still sums to the surplus.
    """
    capital = {h.member_id: h.capital_cents for h in holders}
    work: dict[int, list[int]] = {}  # member -> [tasks, minutes, gross, earnings]
    categories: dict[str, int] = {}
    for line in lines:
        row = work.setdefault(line.member_id, [0, 0, 0, 0])
        row[0] += 1
        row[1] += line.minutes
        row[2] += line.price_cents
        row[3] += line.earnings_cents
        categories[line.category] = categories.get(line.category, 0) + line.earnings_cents
    margins = sum(line.margin_cents for line in lines)
    income = margins - expenses_cents - loss_brought_cents
    surplus, loss_carried = (income, 0) if income > 0 else (0, -income)

    legal, development, work_pot, dividend_pot = split_surplus(surplus, params)
    workers = sorted(work)
    shares, sub_pots = work_shares(
        work_pot, [work[m][3] for m in workers], [work[m][1] for m in workers], params
    )
    if not workers:
        development, work_pot = development + work_pot, 0
    holders_ids = sorted(m for m, c in capital.items() if c > 0)
    dividends = allocate(dividend_pot, [capital[m] for m in holders_ids])
    if not holders_ids:
        development, dividend_pot = development + dividend_pot, 0
    share_of = dict(zip(workers, shares, strict=True))
    dividend_of = dict(zip(holders_ids, dividends, strict=True))

    members = []
    for member_id in sorted(set(workers) | set(holders_ids)):
        tasks, minutes, gross, earned = work.get(member_id, [0, 0, 0, 0])
        members.append(
            MemberFigures(
                member_id=member_id,
                tasks=tasks,
                minutes=minutes,
                gross_cents=gross,
                earnings_cents=earned,
                work_share_cents=share_of.get(member_id, 0),
                dividend_cents=dividend_of.get(member_id, 0),
                capital_cents=capital.get(member_id, 0),
            )
        )
    totals = MonthTotals(
        tasks=len(lines),
        minutes=sum(line.minutes for line in lines),
        gross_cents=sum(line.price_cents for line in lines),
        earnings_cents=sum(line.earnings_cents for line in lines),
        margins_cents=margins,
        expenses_cents=expenses_cents,
        loss_brought_cents=loss_brought_cents,
        income_cents=income,
        surplus_cents=surplus,
        loss_carried_cents=loss_carried,
        legal_reserve_cents=legal,
        development_reserve_cents=development,
        work_share_cents=work_pot,
        dividends_cents=dividend_pot,
        work_share_earnings_cents=sub_pots[0],
        work_share_hours_cents=sub_pots[1],
        work_share_equal_cents=sub_pots[2],
        split_bp={
            "legal_reserve": params.legal_reserve_bp,
            "development_reserve": params.development_reserve_bp,
            "work_share": params.work_share_bp,
            "dividends": params.dividends_bp,
        },
        basis_pct={
            "earnings": params.basis_earnings_pct,
            "hours": params.basis_hours_pct,
            "equal": params.basis_equal_pct,
        },
        earnings_by_category=dict(sorted(categories.items())),
    )
    return MonthFigures(totals=totals, members=members)
