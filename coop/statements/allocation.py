"""The month's figures from plain inputs: per-member earnings, the surplus and its split.

Pure functions over dataclasses, no database: the month close, the drafts, the worked example
in docs/profit-sharing.md and the property tests all go through `compute_month`. Every split
is by largest remainder (`coop.money.allocate`), so each one sums exactly to its pot.
"""

import hashlib
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
    """A member who may receive a share: the capital they held decides their dividend.

    weight is the capital held over the period (cents × time held, from the register);
    capital_cents is its average. Without a weight the capital counts as held all period.
    """

    member_id: int
    capital_cents: int
    weight: int | None = None

    @property
    def dividend_weight(self) -> int:
        return self.capital_cents if self.weight is None else self.weight


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
    # Art. 33: the legal reserve is fed until it equals the highest capital reached; beyond,
    # its allocation goes to the development reserve. None: not known (no register).
    highest_capital_cents: int | None = None
    legal_reserve_before_cents: int = 0  # the legal reserve from the closed months before
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


# Loi 78-763, art. 33: the statutory minimums, in basis points of the surplus.
LEGAL_RESERVE_MIN_BP = 1500
WORK_SHARE_MIN_BP = 2500


def _ceil_share(pot: int, basis_points: int) -> int:
    return -(-pot * basis_points // 10000)


def split_surplus(surplus: int, params: Params) -> tuple[int, int, int, int]:
    """Split the surplus into legal reserve, development reserve, work share and dividends.

    The legal reserve and the work share are rounded up and the dividends down, so the
    statutory minimums are met to the cent and capital never gets more than its rate (nor more
    than the work share or the reserves, which the parameters already guarantee in percent);
    the development reserve takes the rest. When the two round-ups overshoot the surplus, the
    cent is taken back from the one rounded up the most that stays at or above its statutory
    minimum. Only a one-cent surplus cannot meet both minimums: it goes to the legal reserve.
    """
    legal = _ceil_share(surplus, params.legal_reserve_bp)
    work = _ceil_share(surplus, params.work_share_bp)
    dividends = surplus * params.dividends_bp // 10000
    development = surplus - legal - work - dividends
    if development < 0:  # by one cent at most: only two parts are rounded up
        # (round-up in 1/10000 of a cent, part name) for each part that may give a cent back.
        givers = [
            (legal * 10000 - surplus * params.legal_reserve_bp, "legal")
            if legal > _ceil_share(surplus, LEGAL_RESERVE_MIN_BP) else (0, "legal"),
            (work * 10000 - surplus * params.work_share_bp, "work")
            if work > _ceil_share(surplus, WORK_SHARE_MIN_BP) else (0, "work"),
        ]
        round_up, giver = max(givers, key=lambda g: (g[0], g[1] == "work"))
        if giver == "legal" and round_up:
            legal -= 1
        else:
            work -= 1
        development = 0
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


def leftover_order(period: str, pseudonyms: dict[int, str]) -> dict[int, bytes]:
    """Return each member's place in the queue for leftover cents in a period.

    The key is SHA-256 of the period and the member's pseudonym: anyone can recompute it, it
    changes every period, and so nobody (the lowest id, say) is always first to get a cent.
    """
    return {
        member_id: hashlib.sha256(f"{period}\n{pseudonym}".encode()).digest()
        for member_id, pseudonym in pseudonyms.items()
    }


@dataclass(frozen=True)
class Work:
    """What one member did in a period: the basis of their work share."""

    tasks: int
    minutes: int
    gross_cents: int
    earnings_cents: int


def compute_month(
    lines: list[TaskLine],
    holders: list[Holder],
    expenses_cents: int,
    loss_brought_cents: int,
    params: Params,
    order: dict[int, bytes] | None = None,
    highest_capital_cents: int | None = None,
    legal_reserve_before_cents: int = 0,
) -> MonthFigures:
    """Compute the month: per-member work, the coop's income, the surplus and every share.

    Workers are the members with a completed task in the month; see `compute_period`.
    """
    work: dict[int, Work] = {}
    categories: dict[str, int] = {}
    for line in lines:
        row = work.get(line.member_id, Work(0, 0, 0, 0))
        work[line.member_id] = Work(row.tasks + 1, row.minutes + line.minutes,
                                    row.gross_cents + line.price_cents,
                                    row.earnings_cents + line.earnings_cents)
        categories[line.category] = categories.get(line.category, 0) + line.earnings_cents
    # Only members who worked in the month share the work pot: one whose month holds nothing
    # but pay taken back (a fraud finding on an earlier month's answers) earns no share of it.
    worked = {line.member_id for line in lines if line.project_id is None or line.answers > 0}
    return compute_period(
        work, sum(line.margin_cents for line in lines), categories, holders, expenses_cents,
        loss_brought_cents, params, order, highest_capital_cents, legal_reserve_before_cents,
        worker_ids=worked,
    )


def compute_period(
    work: dict[int, Work],
    margins_cents: int,
    categories: dict[str, int],
    holders: list[Holder],
    expenses_cents: int,
    loss_brought_cents: int,
    params: Params,
    order: dict[int, bytes] | None = None,
    highest_capital_cents: int | None = None,
    legal_reserve_before_cents: int = 0,
    worker_ids: set[int] | None = None,
) -> MonthFigures:
    """Compute a period (a month, or a fiscal year from its months): income, split, shares.

    Workers are the members in work (only those in `worker_ids` when given: pay taken back
    counts against a member's earnings but makes nobody a worker); dividends go to every holder
    with capital. A pot nobody
    can receive (no worker, no capital) goes to the development reserve, so the split still
    sums to the surplus. Members equally entitled to a leftover cent get it in the given order
    (`leftover_order`), by member id when none is given. Once the legal reserve
    (legal_reserve_before_cents and this period's part) reaches the highest capital reached,
    the rest of its part goes to the development reserve.
    """

    def queue(member_ids) -> list[int]:
        return sorted(member_ids, key=lambda m: (order[m], m) if order else (b"", m))

    capital = {h.member_id: h.capital_cents for h in holders}
    dividend_weight = {h.member_id: h.dividend_weight for h in holders}
    margins = margins_cents
    income = margins - expenses_cents - loss_brought_cents
    surplus, loss_carried = (income, 0) if income > 0 else (0, -income)

    legal, development, work_pot, dividend_pot = split_surplus(surplus, params)
    if highest_capital_cents is not None:
        room = max(0, highest_capital_cents - legal_reserve_before_cents)
        if legal > room:
            legal, development = room, development + legal - room
    workers = queue(m for m in work if worker_ids is None or m in worker_ids)
    shares, sub_pots = work_shares(
        work_pot,
        [max(0, work[m].earnings_cents) for m in workers],
        [max(0, work[m].minutes) for m in workers],
        params,
    )
    if not workers:
        development, work_pot = development + work_pot, 0
    holders_ids = queue(m for m, w in dividend_weight.items() if w > 0)
    dividends = allocate(dividend_pot, [dividend_weight[m] for m in holders_ids])
    if not holders_ids:
        development, dividend_pot = development + dividend_pot, 0
    share_of = dict(zip(workers, shares, strict=True))
    dividend_of = dict(zip(holders_ids, dividends, strict=True))

    members = []
    for member_id in sorted(set(work) | set(holders_ids)):
        done = work.get(member_id, Work(0, 0, 0, 0))
        members.append(
            MemberFigures(
                member_id=member_id,
                tasks=done.tasks,
                minutes=done.minutes,
                gross_cents=done.gross_cents,
                earnings_cents=done.earnings_cents,
                work_share_cents=share_of.get(member_id, 0),
                dividend_cents=dividend_of.get(member_id, 0),
                capital_cents=capital.get(member_id, 0),
            )
        )
    totals = MonthTotals(
        tasks=sum(w.tasks for w in work.values()),
        minutes=sum(w.minutes for w in work.values()),
        gross_cents=sum(w.gross_cents for w in work.values()),
        earnings_cents=sum(w.earnings_cents for w in work.values()),
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
        highest_capital_cents=highest_capital_cents,
        legal_reserve_before_cents=legal_reserve_before_cents,
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
