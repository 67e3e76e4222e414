"""A member's pay is settled when they take a task: the margin in force at the claim or award
is fixed on the task, so a margin raised afterwards does not cut their pay (it applies again
only if the task goes back to the board); and a pay floor raised after a task was posted
refuses claims and awards below it, telling the client to raise the price, changing nothing."""

from datetime import timedelta

import pytest
from conftest import login_client
from test_delivery_submit import stored

from coop.delivery import operations as delivery_ops
from coop.errors import DomainError
from coop.market import operations as ops
from coop.models import Bid, BidState, Earning, Event, Parameter, Task, TaskState, utcnow


def set_param(key, value):
    Parameter.insert(key=key, value=value).on_conflict(
        conflict_target=[Parameter.key], update={Parameter.value: value}).execute()


def deliver_and_accept(app, task, member):
    with app.test_request_context():
        delivery = delivery_ops.submit_delivery(member, task.id, stored(), "Done.")
        delivery_ops.accept_delivery(task.client, delivery.id)
    return Earning.get(Earning.task == task.id)


def awarded(task):
    return [e.payload for e in Event.select().where(
        (Event.kind == "task.awarded") & (Event.subject == f"task:{task.id}"))]


def test_a_margin_raised_after_the_claim_does_not_cut_the_pay(app, make_member, make_task):
    member, task = make_member(), make_task(price_cents=1000)
    with app.test_request_context():
        ops.claim_task(member, task.id)
    assert Task.get_by_id(task.id).margin_bp == 800
    assert awarded(task)[-1]["margin_bp"] == 800
    set_param("margin_bp", 1250)  # the board raises the margin while the member works
    earning = deliver_and_accept(app, Task.get_by_id(task.id), member)
    assert (earning.earnings_cents, earning.margin_cents) == (920, 80)  # 8%, not 12.5%


def test_a_task_back_on_the_board_takes_the_margin_in_force_at_the_next_claim(
    app, make_member, make_task
):
    first, second, task = make_member(), make_member(), make_task(price_cents=1000)
    with app.test_request_context():
        ops.claim_task(first, task.id)
        ops.release_task(first, task.id)
        assert Task.get_by_id(task.id).margin_bp is None
        set_param("margin_bp", 1250)
        ops.claim_task(second, task.id)
    earning = deliver_and_accept(app, Task.get_by_id(task.id), second)
    assert (earning.earnings_cents, earning.margin_cents) == (875, 125)


def test_a_raised_floor_refuses_claims_below_it(app, make_member, make_task):
    task = make_task(price_cents=1000, estimated_minutes=30)  # €20.00/h, posted at €12.00/h
    set_param("pay_floor_cents_per_hour", 2500)
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        ops.claim_task(make_member(), task.id)
    assert "The pay floor is now €25.00/h" in refused.value.message
    assert "at least €13.59" in refused.value.message  # €12.50 net of the 8% margin
    assert "The client has to raise the price" in refused.value.message
    assert Task.get_by_id(task.id).state == TaskState.OPEN and not awarded(task)


def test_a_raised_floor_refuses_awards_below_it(app, make_member, make_client_user):
    client, low, high = make_client_user(), make_member(), make_member()
    now = utcnow()
    with app.test_request_context():
        task = ops.post_task(
            client, title="Check 40 IDs", description="Compare photos.", instructions="",
            category="id_check", estimated_minutes=30, deadline=now + timedelta(days=3),
            pricing="bids", budget_cents=2000, bidding_deadline=now + timedelta(days=1))
        cheap = ops.place_bid(low, task.id, amount_cents=700, eta_hours=2, note="")
        fair = ops.place_bid(high, task.id, amount_cents=1500, eta_hours=2, note="")
        set_param("pay_floor_cents_per_hour", 2500)  # a 30-minute bid must now be >= €13.59
        with pytest.raises(DomainError, match="a bid must be at least €13.59, and this one "
                                              "is €7.00"):
            ops.award_bid(client, cheap.id)
        assert Task.get_by_id(task.id).state == TaskState.OPEN
        assert Bid.get_by_id(cheap.id).state == BidState.LIVE
        ops.award_bid(client, fair.id)
    assert Task.get_by_id(task.id).member_id == high.id


def test_the_client_is_asked_to_raise_the_price_and_can(app, make_member, make_task,
                                                        make_client_user):
    task = make_task(price_cents=1000, estimated_minutes=30)
    set_param("pay_floor_cents_per_hour", 2500)
    owner = login_client(app, task.client)
    page = owner.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "raised its pay floor" in page and "€13.59" in page
    for amount, error in (("9", "Enter more than the current €10.00."),
                          ("13.58", "the price must be at least €13.59"), ("nope", "Enter an")):
        response = owner.post(f"/tasks/{task.id}/price", data={"amount": amount})
        assert response.status_code == 400 and error in response.get_data(as_text=True)
        assert Task.get_by_id(task.id).price_cents == 1000
    stranger = login_client(app, make_client_user())
    assert stranger.post(f"/tasks/{task.id}/price", data={"amount": "20"}).status_code == 404
    member = make_member()
    assert login_client(app, member).post(f"/tasks/{task.id}/price",
                                          data={"amount": "20"}).status_code == 403
    assert owner.post(f"/tasks/{task.id}/price", data={"amount": "13.59"}).status_code == 302
    raised = Task.get_by_id(task.id)
    assert (raised.price_cents, raised.pay_per_hour_cents) == (1359, 2718)
    assert "raised its pay floor" not in owner.get(f"/tasks/{task.id}").get_data(as_text=True)
    with app.test_request_context():
        ops.claim_task(member, task.id)
