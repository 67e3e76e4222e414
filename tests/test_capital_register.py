"""The capital register (parts sociales): subscriptions, releases (paying up), transfers and
redemptions are dated by their ledger entries and keep each member's capital held; dividends are
paid on the capital held during the period, time-weighted (capital added after the month ended
earns nothing for it); and the highest capital ever reached bounds the legal reserve."""

from datetime import UTC, datetime

import pytest
from conftest import login_client
from test_statements_close import AFTER, MONTH, example_month, statements_app  # noqa: F401

from coop.capital import operations as capital
from coop.errors import DomainError, Forbidden
from coop.models import CapitalMovement, Event, User
from coop.params import Params
from coop.statements import operations
from coop.statements.allocation import TaskLine, compute_month


def ns(*args):
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 10**9


def capital_of(member):
    return User.get_by_id(member.id).capital_cents


def test_each_movement_is_on_the_ledger_and_keeps_the_capital_held(
    statements_app, make_board, make_member  # noqa: F811
):
    board, ana, ben = make_board(), make_member(), make_member()
    capital.record_movement(board, "subscription", ana.id, 50_000)
    assert capital_of(ana) == 0  # subscribed, not paid up: not held yet
    with pytest.raises(DomainError, match="owes €500.00"):
        capital.record_movement(board, "release", ana.id, 50_001)
    capital.record_movement(board, "release", ana.id, 30_000, note="bank transfer 12")
    assert capital_of(ana) == 30_000 and capital.unpaid_subscribed(ana) == 20_000
    with pytest.raises(DomainError, match="holds €300.00"):
        capital.record_movement(board, "transfer_out", ana.id, 30_001, counterparty_id=ben.id)
    capital.record_movement(board, "transfer_out", ana.id, 10_000, counterparty_id=ben.id)
    assert (capital_of(ana), capital_of(ben)) == (20_000, 10_000)
    capital.record_movement(board, "redemption", ben.id, 10_000)
    assert capital_of(ben) == 0
    kinds = [e.kind for e in Event.select().where(Event.kind.startswith("capital.")).order_by(
        Event.id)]
    assert kinds == ["capital.subscription", "capital.release", "capital.transfer_out",
                     "capital.transfer_in", "capital.redemption"]
    for line in CapitalMovement.select():
        event = Event.get(Event.ledger_index == line.ledger_index)
        assert event.unix_ns == line.unix_ns
        assert event.payload["paid_delta_cents"] == line.paid_delta_cents
    # The highest capital reached stays 300 € though only 200 € is held now.
    assert capital.highest_capital(ns(2999, 1, 1)) == 30_000


@pytest.mark.parametrize("values,field", [
    ({"kind": "gift", "amount_cents": 100}, "kind"),
    ({"kind": "transfer_in", "amount_cents": 100}, "kind"),
    ({"kind": "subscription", "amount_cents": 0}, "amount"),
    ({"kind": "subscription", "amount_cents": True}, "amount"),
    ({"kind": "redemption", "amount_cents": 1}, "amount"),
    ({"kind": "transfer_out", "amount_cents": 1}, "amount"),
])
def test_bad_movements_change_nothing(statements_app, make_board, make_member,  # noqa: F811
                                      values, field):
    member = make_member()
    with pytest.raises(DomainError) as refused:
        capital.record_movement(make_board(), member_id=member.id, **values)
    assert refused.value.field == field
    assert not CapitalMovement.select().exists() and capital_of(member) == 0
    with pytest.raises(Forbidden):
        capital.record_movement(member, "subscription", member.id, 100)


def test_capital_added_after_the_month_ended_earns_nothing_for_it(
    example_month, make_board  # noqa: F811
):
    """The audit's case: a member who added capital after the month ended got 7,921 c of the
    dividends against 79 c. Capital now comes from the register, at the time it was held."""
    board, alice = make_board(), example_month["alice"]
    capital.record_movement(board, "subscription", alice.id, 5_000_000)
    capital.record_movement(board, "release", alice.id, 5_000_000)  # ledger time: now, 2026
    figures = operations.close_month(board, MONTH, now=AFTER)
    dividends = {s.member_id: s.figures_data["figures"]["dividend_cents"]
                 for s in figures.statements}
    bob, chloe = example_month["bob"], example_month["chloe"]
    assert dividends == {alice.id: 34, bob.id: 103, chloe.id: 34}  # as in the worked example
    alice_figures = next(s.figures_data["figures"] for s in figures.statements
                         if s.member_id == alice.id)
    assert alice_figures["capital_cents"] == 10_000  # held during March, not 50,100 €


def test_dividends_follow_the_capital_held_over_time(example_month, make_board):  # noqa: F811
    """Chloé's 100 € arrive half-way through March: she gets half the weight of Alice's."""
    start, end = operations.month_bounds(MONTH)
    chloe = example_month["chloe"]
    # Her 100 € were paid up at mid-month: the register says so, the balance follows.
    CapitalMovement.create(member=chloe, kind="release", subscribed_delta_cents=0,
                           paid_delta_cents=10_000, unix_ns=(start + end) // 2)
    figures = operations.compute(MONTH).figures
    by = {m["member_id"]: m for m in figures["members"]}
    assert by[chloe.id]["capital_cents"] == 5_000  # on average over the month
    # 171 c by weights 100 : 300 : 50 → 38.0, 114.0, 19.0
    dividends = {name: by[m.id]["dividend_cents"] for name, m in example_month.items()}
    assert dividends == {"alice": 38, "bob": 114, "chloe": 19}


def test_held_during_matches_a_step_by_step_count(statements_app, make_member):  # noqa: F811
    member = make_member(capital_cents=700)
    moves = [(ns(2025, 3, 5), 300), (ns(2025, 3, 20), -200), (ns(2025, 4, 3), 200)]
    for when, delta in moves:
        CapitalMovement.create(member=member, kind="release", subscribed_delta_cents=0,
                               paid_delta_cents=delta, unix_ns=when)
    # Today's 700 € less the moves since: 400 before the 5th, 700 to the 20th, 500 after.
    start, end = ns(2025, 3, 1), ns(2025, 4, 1)
    expected = (400 * (moves[0][0] - start) + 700 * (moves[1][0] - moves[0][0])
                + 500 * (end - moves[1][0]))
    held = capital.held_during(start, end, [member.id])[member.id]
    assert held.weight == expected and held.average_cents == expected // (end - start)
    assert capital.highest_capital(end) == 700 and capital.highest_capital(moves[0][0]) == 400


def test_the_highest_capital_reached_bounds_the_legal_reserve():
    line = TaskLine(1, 1, None, 0, "moderation", 60, 200_000, 180_000, 20_000)
    free = compute_month([line], [], 0, 0, Params())
    assert free.totals.legal_reserve_cents == 3_000  # 15% of 200 €
    capped = compute_month([line], [], 0, 0, Params(), highest_capital_cents=50_000,
                           legal_reserve_before_cents=49_000)
    t = capped.totals
    assert t.legal_reserve_cents == 1_000  # the reserve reaches the highest capital: 500 €
    assert t.development_reserve_cents == free.totals.development_reserve_cents + 2_000
    assert (t.highest_capital_cents, t.legal_reserve_before_cents) == (50_000, 49_000)
    full = compute_month([line], [], 0, 0, Params(), highest_capital_cents=50_000,
                         legal_reserve_before_cents=60_000)
    assert full.totals.legal_reserve_cents == 0


def test_closed_months_feed_the_legal_reserve_up_to_the_highest_capital(
    example_month, make_board  # noqa: F811
):
    """The worked example's 2.57 € of legal reserve, against 1.50 € of capital: capped."""
    members = [m.id for m in example_month.values()]
    User.update(capital_cents=50).where(User.id.in_(members)).execute()  # 1.50 € in all
    march = operations.close_month(make_board(), MONTH, now=AFTER).totals_data
    assert march["highest_capital_cents"] == 150 and march["legal_reserve_before_cents"] == 0
    assert (march["legal_reserve_cents"], march["development_reserve_cents"]) == (150, 514 + 107)
    april = operations.compute("2025-04").figures["totals"]
    assert april["legal_reserve_before_cents"] == 150


def test_the_board_records_movements_on_its_page(app, make_board, make_member):
    board, ana = make_board(), make_member()
    web = login_client(app, board)
    assert "Capital register" in web.get("/board/").get_data(as_text=True)
    for kind, amount in (("subscription", "250"), ("release", "100.50")):
        response = web.post("/board/capital/", data={"kind": kind, "member": ana.id,
                                                     "amount": amount, "note": "AG 2025"})
        assert response.status_code == 302
    assert capital_of(ana) == 10_050
    page = web.get("/board/capital/").get_data(as_text=True)
    assert "Release (subscribed shares paid up)" in page and ana.pseudonym in page
    for data, error in (
        ({"kind": "release", "member": ana.id, "amount": "200"}, "owes €149.50"),
        ({"kind": "subscription", "member": 999_999, "amount": "1"}, "No such member."),
        ({"kind": "transfer_out", "member": ana.id, "amount": "1"}, "Choose the member who"),
        ({"kind": "gift", "member": ana.id, "amount": "1"}, "Not a valid choice"),
        ({"kind": "release", "member": ana.id, "amount": "-3"}, "Enter an amount in euros"),
    ):
        response = web.post("/board/capital/", data=data)
        assert response.status_code == 400 and error in response.get_data(as_text=True), data
    assert CapitalMovement.select().count() == 2 and capital_of(ana) == 10_050
    assert login_client(app, ana).post("/board/capital/", data={
        "kind": "subscription", "member": ana.id, "amount": "1"}).status_code == 403
