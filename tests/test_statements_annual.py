"""The fiscal year decides: its result is split under art. 33 from its months, advances paid
with the months never exceed the work share of the year-to-date result when they are paid (so a
loss month stops them), and every member's year reconciles to the cent with no negative balance.
Pure functions only; tests/test_statements_year_close.py closes real years."""

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coop.params import Params
from coop.statements.allocation import Holder, Work, leftover_order
from coop.statements.annual import (
    MonthResult,
    advance,
    compute_year,
    month_advances,
    reconcile,
    year_period,
)

ALICE, BOB, CHLOE = 1, 2, 3
NAMES = {ALICE: "w-alice", BOB: "w-bob", CHLOE: "w-chloe"}
EXAMPLE_PARAMS = Params(basis_earnings_pct=50, basis_hours_pct=30, basis_equal_pct=20)
# The worked annual example of docs/profit-sharing.md: October is the monthly worked example.
EXAMPLE_MONTHS = [
    MonthResult("2025-10", 2391, 678, {ALICE: Work(2, 150, 10500, 9660),
                                       BOB: Work(3, 195, 13833, 12726),
                                       CHLOE: Work(1, 75, 5555, 5111)}),
    MonthResult("2025-11", 360, 1200, {ALICE: Work(1, 60, 4500, 4140)}),
    MonthResult("2025-12", 1120, 300, {BOB: Work(2, 120, 8000, 7360),
                                       CHLOE: Work(2, 90, 6000, 5520)}),
]


def run_year(months, params, order=None, loss_brought=0):
    """Close each month in turn as the coop does; return the advances paid month by month."""
    paid, by_month = {}, []
    for i in range(len(months)):
        advances = month_advances(months[:i + 1], loss_brought, paid, params, order)
        by_month.append(advances)
        for member, cents in advances.items():
            paid[member] = paid.get(member, 0) + cents
    return paid, by_month


def test_worked_annual_example_to_the_cent():
    """Every figure of the worked annual example in docs/profit-sharing.md."""
    order = leftover_order(year_period(2025), NAMES)
    paid, by_month = run_year(EXAMPLE_MONTHS, EXAMPLE_PARAMS, order)
    assert [m.result_cents for m in EXAMPLE_MONTHS] == [1713, -840, 820]
    # Year to date after each month: the result, the work-share pot and each member's share.
    ytd = [compute_year(EXAMPLE_MONTHS[:i + 1], [], 0, EXAMPLE_PARAMS, order) for i in range(3)]
    assert [(y.totals.income_cents, y.totals.work_share_cents) for y in ytd] == [
        (1713, 771), (873, 393), (1693, 762)]
    assert [{m.member_id: m.work_share_cents for m in y.members} for y in ytd] == [
        {ALICE: 269, BOB: 337, CHLOE: 165},
        {ALICE: 163, BOB: 153, CHLOE: 77},
        {ALICE: 239, BOB: 326, CHLOE: 197},
    ]
    # October advances half of each share; the loss month none; December tops Chloé up.
    assert by_month == [
        {ALICE: 134, BOB: 168, CHLOE: 82},
        {ALICE: 0, BOB: 0, CHLOE: 0},
        {ALICE: 0, BOB: 0, CHLOE: 16},
    ]
    holders = [Holder(ALICE, 10000), Holder(BOB, 30000), Holder(CHLOE, 10000)]
    year = compute_year(EXAMPLE_MONTHS, holders, 0, EXAMPLE_PARAMS, order, 50000, 0)
    t = year.totals
    assert (t.margins_cents, t.expenses_cents, t.income_cents, t.surplus_cents) == (
        3871, 2178, 1693, 1693)
    assert (t.legal_reserve_cents, t.development_reserve_cents, t.work_share_cents,
            t.dividends_cents) == (254, 508, 762, 169)
    assert (t.work_share_earnings_cents, t.work_share_hours_cents,
            t.work_share_equal_cents) == (381, 229, 152)
    got = {}
    for m in year.members:
        r = reconcile(m.work_share_cents, paid[m.member_id])
        got[m.member_id] = (m.earnings_cents, m.minutes, m.work_share_cents, r.advances_cents,
                            r.balance_due_cents, m.dividend_cents,
                            r.balance_due_cents + m.dividend_cents)
    assert got == {
        ALICE: (13800, 210, 239, 134, 105, 34, 139),
        BOB: (20086, 315, 326, 168, 158, 101, 259),
        CHLOE: (10631, 165, 197, 98, 99, 34, 133),
    }


def test_a_loss_month_stops_advances_and_they_stay_within_the_year():
    """Two good months, then a loss: the loss month and the next pay no advance while the
    year to date is below what was advanced, and no member was advanced more than their share
    of the year."""
    params = Params(basis_earnings_pct=0, basis_hours_pct=0, basis_equal_pct=100)
    workers = {ALICE: Work(1, 60, 1000, 900), BOB: Work(1, 60, 1000, 900)}
    months = [MonthResult(f"2026-{i:02d}", margin, expenses, workers)
              for i, (margin, expenses) in enumerate(
                  [(10000, 0), (10000, 0), (0, 6000), (1000, 0), (8000, 0)], start=1)]
    paid, by_month = run_year(months, params)
    assert by_month[2] == {ALICE: 0, BOB: 0} and by_month[3] == {ALICE: 0, BOB: 0}
    assert by_month[4] != {ALICE: 0, BOB: 0}  # the year to date has recovered
    year = compute_year(months, [], 0, params)
    for m in year.members:
        assert 0 < paid[m.member_id] <= m.work_share_cents
        assert reconcile(m.work_share_cents, paid[m.member_id]).excess_carried_cents == 0


def test_advances_off_pay_nothing():
    assert advance(10_000, 0, Params(work_share_advances=0)) == 0
    assert advance(10_000, 0, Params(advance_rate_bp=2500)) == 2500
    assert advance(10_000, 3000, Params(advance_rate_bp=2500)) == 0


def test_the_year_brings_the_loss_before_and_carries_its_own():
    months = [MonthResult("2026-01", 500, 2000, {})]
    year = compute_year(months, [], 300, Params())
    assert (year.totals.income_cents, year.totals.loss_carried_cents) == (-1800, 1800)
    assert year.totals.surplus_cents == year.totals.work_share_cents == 0


@st.composite
def years_of_months(draw):
    count = draw(st.integers(min_value=1, max_value=5))
    months = []
    for i in range(draw(st.integers(min_value=1, max_value=12))):
        workers = draw(st.lists(st.integers(min_value=1, max_value=count), unique=True,
                                max_size=count))
        work = {w: Work(1, draw(st.integers(0, 600)), 0, draw(st.integers(0, 10**6)))
                for w in workers}
        result = draw(st.integers(min_value=-10**6, max_value=10**6))
        months.append(MonthResult(f"2026-{i + 1:02d}", max(result, 0), max(-result, 0), work))
    return months


@settings(max_examples=150, deadline=None)
@given(years_of_months(), st.integers(min_value=0, max_value=10000),
       st.integers(min_value=0, max_value=10**6))
def test_advances_never_exceed_the_year_to_date_share_and_the_year_reconciles(
        months, rate_bp, loss_brought):
    """Over random monthly results (losses included): whenever a month pays a member an
    advance, their advances to date are at most the rate × their work share of the year to
    date; a month whose year to date is no more than what was advanced pays nothing; at the
    close, work share = advances + balance − excess carried, with nothing negative."""
    params = Params(basis_earnings_pct=40, basis_hours_pct=30, basis_equal_pct=30,
                    advance_rate_bp=rate_bp)
    paid = {}
    for i in range(len(months)):
        ytd = {m.member_id: m.work_share_cents
               for m in compute_year(months[:i + 1], [], loss_brought, params).members}
        advances = month_advances(months[:i + 1], loss_brought, paid, params)
        for member, cents in advances.items():
            assert cents >= 0
            if paid.get(member, 0) >= ytd[member] * rate_bp // 10000:
                assert cents == 0
            paid[member] = paid.get(member, 0) + cents
            if cents:
                assert paid[member] == ytd[member] * rate_bp // 10000 <= ytd[member]
    year = compute_year(months, [], loss_brought, params)
    shares = {m.member_id: m.work_share_cents for m in year.members}
    for member, cents in paid.items():
        r = reconcile(shares.get(member, 0), cents)
        assert min(r.balance_due_cents, r.excess_carried_cents) == 0
        assert r.balance_due_cents >= 0 and r.excess_carried_cents >= 0
        assert r.advances_cents + r.balance_due_cents - r.excess_carried_cents == (
            r.work_share_cents)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-10**6, max_value=10**6), min_size=1, max_size=12),
       st.integers(min_value=0, max_value=10000))
def test_a_year_that_keeps_the_rate_of_its_best_never_owes_back(results, rate_bp):
    """One worker (the key cannot shift): if the year's work share is at least the rate × the
    best year-to-date work share, loss months or not, the advances never exceed it."""
    params = Params(advance_rate_bp=rate_bp)
    work = {ALICE: Work(1, 60, 100, 90)}
    months = [MonthResult(f"2026-{i + 1:02d}", max(r, 0), max(-r, 0), work)
              for i, r in enumerate(results)]
    best = max(compute_year(months[:i + 1], [], 0, params).totals.work_share_cents
               for i in range(len(months)))
    share = compute_year(months, [], 0, params).totals.work_share_cents
    assume(share * 10000 >= best * rate_bp)
    paid, _ = run_year(months, params)
    assert paid.get(ALICE, 0) <= share
