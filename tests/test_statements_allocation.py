"""Every split of the profit-sharing is exact: parts sum to the pot, nobody gets a negative
amount, each part is within a cent of its exact pro-rata value, and the SCOP split and the
weighted work-share basis follow the parameters."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from coop.money import allocate
from coop.params import Params, rule_violations
from coop.statements.allocation import (
    Holder,
    TaskLine,
    compute_month,
    leftover_order,
    split_surplus,
    work_shares,
)

pots = st.integers(min_value=0, max_value=10**12)
weights = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40)


def within_a_cent(parts, pot, ws):
    total = sum(ws)
    return all(abs(Fraction(pot * w, total) - p) < 1 for p, w in zip(parts, ws, strict=True))


def within_a_cent_of_rates(parts, pot, basis_points):
    return all(abs(Fraction(pot * bp, 10000) - p) < 1
               for p, bp in zip(parts, basis_points, strict=True))


@given(pots, weights)
def test_allocate_is_exact_non_negative_and_proportional(pot, ws):
    parts = allocate(pot, ws)
    assert len(parts) == len(ws)
    if sum(ws) == 0:
        assert parts == [0] * len(ws)
        return
    assert sum(parts) == pot
    assert min(parts) >= 0
    assert within_a_cent(parts, pot, ws)


@given(pots)
def test_split_surplus_follows_the_scop_defaults(surplus):
    params = Params()
    legal, development, work, dividends = split_surplus(surplus, params)
    assert legal + development + work + dividends == surplus
    assert within_a_cent_of_rates([legal, work, dividends], surplus, [1500, 4500, 1000])
    # The development reserve takes the rest: up to two cents off its exact share.
    assert abs(Fraction(surplus * 3000, 10000) - development) < 2
    assert min(legal, development, work, dividends) >= 0


@st.composite
def scop_params(draw):
    """Any split the board may set: every art. 33 rule of `coop.params.rule_violations`."""
    legal = draw(st.integers(1500, 10000 - 2500))
    work = draw(st.integers(2500, 10000 - legal))
    # dividends <= work share, <= reserves (legal + development), and the parts fit in 100%.
    dividends = draw(st.integers(0, min(work, 10000 - legal - work, (10000 - work) // 2)))
    return Params(legal_reserve_bp=legal, work_share_bp=work, dividends_bp=dividends)


@settings(max_examples=5000, deadline=None)
@given(st.integers(min_value=2, max_value=10**9), scop_params())
def test_split_surplus_meets_every_statutory_rule_to_the_cent(surplus, params):
    """Largest remainder left the legal reserve a cent under 15% in 718 of 5,000 such cases."""
    assert rule_violations(params) == {}
    legal, development, work, dividends = split_surplus(surplus, params)
    assert legal + development + work + dividends == surplus
    assert min(legal, development, work, dividends) >= 0
    assert legal * 10000 >= surplus * 1500  # legal reserve >= 15%
    assert work * 10000 >= surplus * 2500  # work share >= 25%
    assert dividends * 10000 <= surplus * params.dividends_bp  # capital never above its rate
    assert dividends <= work and dividends <= legal + development
    assert within_a_cent_of_rates([legal, work, dividends], surplus,
                                  [params.legal_reserve_bp, params.work_share_bp,
                                   params.dividends_bp])


def test_a_one_cent_surplus_goes_to_the_legal_reserve():
    """Both minimums cannot be met with one cent: the reserve comes first."""
    assert split_surplus(1, Params()) == (1, 0, 0, 0)
    assert split_surplus(1, Params(legal_reserve_bp=1500, work_share_bp=8500,
                                   dividends_bp=0)) == (1, 0, 0, 0)


mixes = st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(lambda t: t[0] + t[1] <= 100)


@given(pots, mixes, st.lists(st.tuples(st.integers(0, 10**7), st.integers(1, 10**4)),
                             min_size=1, max_size=30))
def test_work_shares_sum_to_the_pot_and_follow_each_basis(pot, mix, workers):
    params = Params(basis_earnings_pct=mix[0], basis_hours_pct=mix[1],
                    basis_equal_pct=100 - mix[0] - mix[1])
    earnings = [w[0] for w in workers]
    minutes = [w[1] for w in workers]
    shares, (by_earnings, by_hours, equal) = work_shares(pot, earnings, minutes, params)
    assert sum(shares) == pot and min(shares) >= 0
    assert by_earnings + by_hours + equal == pot
    assert within_a_cent([by_earnings, by_hours, equal], pot, [mix[0], mix[1], 100 - sum(mix)])
    # Each member within a cent per sub-pot of the exact weighted share.
    n = len(workers)
    e_total = sum(earnings) or None
    for i, share in enumerate(shares):
        exact = (Fraction(by_earnings * earnings[i], e_total) if e_total
                 else Fraction(by_earnings, n))
        exact += Fraction(by_hours * minutes[i], sum(minutes)) + Fraction(equal, n)
        assert abs(exact - share) < 3


lines = st.lists(
    st.builds(
        lambda member, minutes, price, margin_bp: TaskLine(
            task_id=0, member_id=member, ledger_index=None, unix_ns=0, category="moderation",
            minutes=minutes, price_cents=price,
            earnings_cents=price - price * margin_bp // 10000,
            margin_cents=price * margin_bp // 10000,
        ),
        st.integers(1, 8), st.integers(1, 600), st.integers(0, 10**6), st.integers(0, 5000),
    ),
    max_size=40,
)


@given(lines, st.lists(st.integers(0, 10**7), min_size=8, max_size=8),
       st.integers(0, 10**6), st.integers(0, 10**6))
def test_the_month_adds_up_to_the_cent(task_lines, capital, expenses, loss_brought):
    holders = [Holder(i + 1, c) for i, c in enumerate(capital)]
    month = compute_month(task_lines, holders, expenses, loss_brought, Params())
    t = month.totals
    assert t.income_cents == t.margins_cents - expenses - loss_brought
    assert t.surplus_cents - t.loss_carried_cents == t.income_cents
    assert min(t.surplus_cents, t.loss_carried_cents) == 0
    assert (t.legal_reserve_cents + t.development_reserve_cents + t.work_share_cents
            + t.dividends_cents) == t.surplus_cents
    assert sum(m.work_share_cents for m in month.members) == t.work_share_cents
    assert sum(m.dividend_cents for m in month.members) == t.dividends_cents
    assert sum(m.earnings_cents for m in month.members) == t.earnings_cents
    assert t.gross_cents == t.earnings_cents + t.margins_cents
    assert all(m.total_cents >= 0 and m.work_share_cents >= 0 for m in month.members)
    if t.surplus_cents and t.tasks:
        assert t.legal_reserve_cents >= t.surplus_cents * 15 // 100


def test_a_pot_nobody_can_receive_goes_to_the_development_reserve():
    line = TaskLine(1, 1, None, 0, "moderation", 60, 10000, 9000, 1000)
    month = compute_month([line], [], 0, 0, Params())
    t = month.totals
    assert t.dividends_cents == 0 and t.surplus_cents == 1000
    assert t.development_reserve_cents == 300 + 100
    assert month.members[0].work_share_cents == 450


def test_leftover_cents_rotate_with_the_period():
    """Equal shares of pots that do not divide by three: the lowest member ids used to get the
    leftover cents every month; now the period's queue decides, and it changes each month."""
    params = Params(basis_earnings_pct=0, basis_equal_pct=100)
    pseudonyms = {1: "w-ada", 2: "w-ben", 3: "w-cyd"}
    lines = [TaskLine(i, i, None, 0, "moderation", 60, 1000, 900, 100) for i in pseudonyms]
    holders = [Holder(i, 10000) for i in pseudonyms]
    left_out = set()
    for month in (f"2025-{m:02d}" for m in range(1, 13)):
        order = leftover_order(month, pseudonyms)
        figures = compute_month(lines, holders, 4, 0, params, order=order)  # surplus 296
        assert (figures.totals.work_share_cents, figures.totals.dividends_cents) == (134, 29)
        work = {m.member_id: m.work_share_cents for m in figures.members}
        capital = {m.member_id: m.dividend_cents for m in figures.members}
        queue = sorted(pseudonyms, key=lambda m: order[m])
        # Two leftover cents in each pot: to the first two of the queue, not to ids 1 and 2.
        assert [work[m] for m in queue] == [45, 45, 44]
        assert [capital[m] for m in queue] == [10, 10, 9]
        assert compute_month(lines, holders, 4, 0, params,
                             order=leftover_order(month, pseudonyms)) == figures
        left_out.add(queue[-1])
    assert left_out == {1, 2, 3}
