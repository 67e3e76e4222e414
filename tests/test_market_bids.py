"""Bids and awards: a second bid revises the first, a withdrawn bid can be revived; bids are
refused on closed tasks, above the budget, below the floor and after the bidding deadline; the
client awards one bid exactly once (others become "not selected"), sees bids cheapest first with
the bidders' track records under pseudonyms; another client's award is a 404."""

from datetime import timedelta

import pytest
from conftest import login_client

from coop.errors import DomainError, Forbidden, NotFound
from coop.market import operations as ops
from coop.models import (
    Bid,
    BidState,
    Delivery,
    Earning,
    Event,
    Parameter,
    Task,
    TaskState,
    utcnow,
)


@pytest.fixture
def bid_task(app, make_client_user):
    """Post a task open to bids (30 minutes, budget €20) through the operation."""

    def make(client=None, **overrides):
        now = utcnow()
        fields = {
            "title": "Check 40 IDs",
            "description": "Compare photos to documents.",
            "instructions": "",
            "category": "id_check",
            "estimated_minutes": 30,
            "deadline": now + timedelta(days=3),
            "pricing": "bids",
            "budget_cents": 2000,
            "bidding_deadline": now + timedelta(days=1),
        }
        fields.update(overrides)
        return ops.post_task(client or make_client_user(), **fields)

    return make


def test_place_and_revise_a_bid(app, make_member, bid_task):
    member, task = make_member(), bid_task()
    first = ops.place_bid(member, task.id, amount_cents=1500, eta_hours=5, note="Fast")
    second = ops.place_bid(member, task.id, amount_cents=1200, eta_hours=8)
    assert first.id == second.id
    bid = Bid.get()
    assert (bid.amount_cents, bid.eta_hours, bid.note, bid.state) == (1200, 8, "", "live")


def test_withdraw_then_revive(app, make_member, bid_task):
    member, task = make_member(), bid_task()
    ops.place_bid(member, task.id, amount_cents=1500, eta_hours=5)
    assert ops.withdraw_bid(member, task.id).state == BidState.WITHDRAWN
    with pytest.raises(DomainError, match="Only a live bid"):
        ops.withdraw_bid(member, task.id)
    assert ops.place_bid(member, task.id, amount_cents=1400, eta_hours=5).state == BidState.LIVE
    assert Bid.select().count() == 1
    with pytest.raises(NotFound):
        ops.withdraw_bid(make_member(), task.id)


def test_bid_above_budget_or_below_floor(app, make_member, bid_task):
    member, task = make_member(), bid_task()
    with pytest.raises(DomainError, match="above the client's budget of €20.00"):
        ops.place_bid(member, task.id, amount_cents=2001, eta_hours=5)
    with pytest.raises(DomainError, match="for 30 minutes a bid must be at least €6.52"):
        ops.place_bid(member, task.id, amount_cents=599, eta_hours=5)
    assert Bid.select().count() == 0


def test_bid_after_the_bidding_deadline(app, make_member, bid_task):
    task = bid_task()
    Task.update(bidding_deadline=utcnow() - timedelta(minutes=1)).where(
        Task.id == task.id
    ).execute()
    with pytest.raises(DomainError, match="The bidding deadline has passed."):
        ops.place_bid(make_member(), task.id, amount_cents=1500, eta_hours=5)


def test_bids_on_closed_or_fixed_tasks(app, make_member, bid_task, make_task):
    task = bid_task()
    ops.cancel_task(task.client, task.id)
    with pytest.raises(DomainError, match="Bidding is closed"):
        ops.place_bid(make_member(), task.id, amount_cents=1500, eta_hours=5)
    with pytest.raises(DomainError, match="fixed price"):
        ops.place_bid(make_member(), make_task().id, amount_cents=1500, eta_hours=5)
    with pytest.raises(Forbidden):
        ops.place_bid(task.client, task.id, amount_cents=1500, eta_hours=5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "0", "eta_hours": "5"}, "greater than zero"),
        ({"amount": "-3", "eta_hours": "5"}, "Enter an amount in euros"),
        ({"amount": "lots", "eta_hours": "5"}, "Enter an amount in euros"),
        ({"amount": "25", "eta_hours": "5"}, "above the client&#39;s budget of €20.00"),
        ({"amount": "5", "eta_hours": "5"}, "a bid must be at least €6.52"),
        ({"amount": "15", "eta_hours": "0"}, "Number must be between"),
        ({"amount": "15", "eta_hours": "5", "note": "x" * 501}, "500 characters"),
    ],
)
def test_invalid_bids_through_the_web(app, make_member, bid_task, data, message):
    task = bid_task()
    response = login_client(app, make_member()).post(f"/tasks/{task.id}/bid", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert Bid.select().count() == 0


def test_bid_through_the_web_then_revise(app, make_member, bid_task):
    member, task = make_member(), bid_task()
    web = login_client(app, member)
    data = {"amount": "15", "eta_hours": "5", "note": "<b>quick</b>"}
    assert web.post(f"/tasks/{task.id}/bid", data=data).status_code == 302
    data["amount"] = "14.50"
    assert web.post(f"/tasks/{task.id}/bid", data=data).status_code == 302
    assert [(b.amount_cents, b.note) for b in Bid.select()] == [(1450, "<b>quick</b>")]
    page = web.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "€14.50" in page and "Withdraw my bid" in page
    assert web.post(f"/tasks/{task.id}/bid/withdraw").status_code == 302
    assert Bid.get().state == BidState.WITHDRAWN


def test_award_assigns_once_and_marks_the_others(app, make_member, bid_task):
    task = bid_task()
    winner, loser, quitter = make_member(), make_member(), make_member()
    won = ops.place_bid(winner, task.id, amount_cents=1400, eta_hours=6)
    ops.place_bid(loser, task.id, amount_cents=1300, eta_hours=6)
    ops.place_bid(quitter, task.id, amount_cents=1000, eta_hours=6)
    ops.withdraw_bid(quitter, task.id)
    web = login_client(app, task.client)
    assert web.post(f"/bids/{won.id}/award", data={"confirmed": "1"}).status_code == 302
    task = Task.get_by_id(task.id)
    assert (task.state, task.member_id, task.price_cents) == ("assigned", winner.id, 1400)
    assert task.pay_per_hour_cents == 2800
    states = {b.member_id: b.state for b in Bid.select()}
    assert states == {winner.id: "awarded", loser.id: "not_selected", quitter.id: "withdrawn"}
    event = Event.get(Event.kind == "task.awarded")
    assert event.payload == {
        "task": task.id, "member": winner.pseudonym, "price_cents": 1400, "mode": "bid",
        "margin_bp": 800,
    }
    # The others see it on the task page and in their bids.
    loser_web = login_client(app, loser)
    assert "Not selected" in loser_web.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Not selected" in loser_web.get("/my-bids").get_data(as_text=True)
    other = Bid.get(Bid.member == loser.id)
    assert web.post(f"/bids/{other.id}/award", data={"confirmed": "1"}).status_code == 409
    with pytest.raises(DomainError, match="Bidding is closed"):
        ops.place_bid(loser, task.id, amount_cents=1200, eta_hours=6)


def test_award_by_another_client_is_not_found(app, make_member, make_client_user, bid_task):
    task = bid_task()
    bid = ops.place_bid(make_member(), task.id, amount_cents=1400, eta_hours=6)
    stranger = make_client_user()
    confirmed = {"confirmed": "1"}
    assert login_client(app, stranger).post(f"/bids/{bid.id}/award", data=confirmed).status_code \
        == 404
    with pytest.raises(NotFound):
        ops.award_bid(stranger, bid.id)
    assert login_client(app, make_member()).post(
        f"/bids/{bid.id}/award", data=confirmed).status_code == 403
    assert Task.get_by_id(task.id).state == TaskState.OPEN


def test_award_checks_the_bidders_limits(app, make_member, make_task, bid_task):
    Parameter.create(key="max_active_tasks", value=1)
    member = make_member()
    task = bid_task()
    bid = ops.place_bid(member, task.id, amount_cents=1400, eta_hours=6)
    ops.claim_task(member, make_task().id)
    with pytest.raises(DomainError, match="The limit is 1 active tasks per member"):
        ops.award_bid(task.client, bid.id)
    assert Task.get_by_id(task.id).state == TaskState.OPEN
    assert Bid.get_by_id(bid.id).state == BidState.LIVE


def test_withdrawn_bid_cannot_be_awarded(app, make_member, bid_task):
    task, member = bid_task(), make_member()
    bid = ops.place_bid(member, task.id, amount_cents=1400, eta_hours=6)
    ops.withdraw_bid(member, task.id)
    with pytest.raises(DomainError, match="no longer live"):
        ops.award_bid(task.client, bid.id)


def test_client_sees_sorted_bids_with_track_records(app, make_member, make_task, bid_task):
    task = bid_task()
    veteran, newcomer, slow = make_member(), make_member(), make_member()
    for state in ("accepted", "accepted", "accepted", "rejected"):
        done = make_task(state=TaskState.COMPLETED, member=veteran, assigned_at=utcnow())
        Delivery.create(task=done, member=veteran, attempt=1, state=state)
        if state == "accepted":
            Earning.create(
                member=veteran, task=done, price_cents=1000, earnings_cents=920,
                margin_cents=80,
            )
    ops.place_bid(veteran, task.id, amount_cents=1500, eta_hours=4)
    ops.place_bid(newcomer, task.id, amount_cents=1200, eta_hours=9)
    ops.place_bid(slow, task.id, amount_cents=1200, eta_hours=20)
    order = [b.member_id for b in ops.bids_for_client(task)]
    assert order == [newcomer.id, slow.id, veteran.id]
    records = ops.track_records([veteran.id, newcomer.id])
    assert records[veteran.id] == ops.TrackRecord(completed=3, accepted=3, reviewed=4)
    assert records[veteran.id].acceptance_pct == 75
    assert records[newcomer.id].acceptance_pct is None
    page = login_client(app, task.client).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert veteran.pseudonym in page and "75% of 4 reviewed deliveries accepted" in page
    assert veteran.name not in page and veteran.email not in page
    for bid in Bid.select():
        assert f'href="/bids/{bid.id}/award"' in page
    member_page = login_client(app, newcomer).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "/award" not in member_page and veteran.pseudonym not in member_page
    assert page.index(newcomer.pseudonym) < page.index(slow.pseudonym) < page.index(
        veteran.pseudonym
    )


def test_release_of_an_awarded_task_restores_the_budget(app, make_member, bid_task):
    task, member = bid_task(), make_member()
    bid = ops.place_bid(member, task.id, amount_cents=1400, eta_hours=6)
    ops.award_bid(task.client, bid.id)
    released = ops.release_task(member, task.id)
    assert (released.state, released.price_cents, released.pay_per_hour_cents) == (
        "open", None, 4000,
    )
    # Bidding opens again: the member who released may bid anew.
    assert ops.place_bid(member, task.id, amount_cents=1500, eta_hours=6).state == "live"


def test_my_bids_is_for_members(app, make_client_user, make_member):
    assert login_client(app, make_client_user()).get("/my-bids").status_code == 403
    page = login_client(app, make_member()).get("/my-bids")
    assert page.status_code == 200 and "You have not bid on any task yet." in page.get_data(
        as_text=True
    )
