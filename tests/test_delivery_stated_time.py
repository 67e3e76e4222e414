"""The time a member states with a delivery keeps the pay floor: the deliver form requires whole
minutes within bounds; a stated time whose net pay falls below the floor per hour flags the
delivery with the exact top-up that meets it, recorded on the ledger; the client may then accept
only with that top-up (or reject), and auto-acceptance pays it; a stated time at or under the
estimate, or above it but still over the floor, changes nothing."""

import json
from datetime import timedelta

import pytest
from test_delivery_submit import login_client, post_delivery, stored, task_page

from coop.delivery import operations
from coop.errors import Conflict, DomainError
from coop.models import (
    Delivery,
    Dispute,
    Earning,
    Event,
    Notification,
    Parameter,
    Task,
    TaskState,
    utcnow,
)

# make_task's default: 10 € for an estimated 30 minutes; the 8 % margin leaves the member 9.20 €.
NET = 920


@pytest.fixture
def assigned(app, make_task, make_member):
    member = make_member()
    task = make_task(state=TaskState.ASSIGNED, member=member, assigned_at=utcnow())
    return task, member


def deliver(app, task, member, minutes):
    with app.test_request_context():
        return operations.submit_delivery(member, task.id, stored(), "Done.", minutes)


def events(kind):
    return [e.payload for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


@pytest.mark.parametrize("minutes", [10, 30, 46])
def test_a_stated_time_within_the_floor_changes_nothing(app, assigned, minutes):
    # 46 minutes at the 12 €/h floor need 9.20 €: exactly the net pay, so no top-up.
    task, member = assigned
    delivery = deliver(app, task, member, minutes)
    assert (delivery.minutes_spent, delivery.topup_cents) == (minutes, 0)
    assert events("delivery.submitted")[0]["topup_cents"] == 0
    page = task_page(app, task, task.client)
    assert "Accept and pay" in page and "top up" not in page
    assert login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/accept").status_code == 302
    earning = Earning.get(Earning.task == task.id)
    assert (earning.earnings_cents, earning.price_cents, earning.topup_cents) == (NET, 1000, 0)
    assert "topup_cents" not in events("task.completed")[0]


def test_the_deliver_form_requires_whole_minutes_within_bounds(app, assigned):
    task, member = assigned
    web = login_client(app, member)
    for minutes, message in [("", "minutes you actually spent"), ("0", "from 1 to 10000"),
                             ("10001", "from 1 to 10000"), ("1.5", "")]:
        response = post_delivery(web, task, minutes=minutes)
        assert response.status_code == 400, minutes
        assert message in response.get_data(as_text=True)
    assert not Delivery.select().exists()
    assert Task.get_by_id(task.id).state == TaskState.ASSIGNED
    assert post_delivery(web, task, minutes="47").status_code == 302
    assert Delivery.get().minutes_spent == 47


def test_below_the_floor_the_topup_is_exact_and_plain_acceptance_refused(app, assigned):
    task, member = assigned
    Parameter.create(key="pay_floor_cents_per_hour", value=1234)
    # 61 minutes at 12.34 €/h: 12.5457 €, rounded up to 12.55 €; the member nets 9.20 €.
    delivery = deliver(app, task, member, 61)
    assert delivery.topup_cents == 1255 - NET
    submitted = events("delivery.submitted")[0]
    assert (submitted["minutes_spent"], submitted["topup_cents"]) == (61, 335)

    web = login_client(app, task.client)
    response = web.post(f"/deliveries/{delivery.id}/accept")
    assert response.status_code == 409
    assert "below the floor" in response.get_data(as_text=True)
    assert Delivery.get_by_id(delivery.id).state == "pending" and not Earning.select().exists()

    assert web.post(f"/deliveries/{delivery.id}/accept-topup").status_code == 302
    earning = Earning.get(Earning.task == task.id)
    assert (earning.price_cents, earning.earnings_cents, earning.margin_cents,
            earning.topup_cents) == (1335, 1255, 80, 335)
    # Net pay over the stated time meets the floor exactly in cents, and not one cent more.
    assert earning.earnings_cents * 60 >= 1234 * 61 > (earning.earnings_cents - 1) * 60
    assert events("task.completed")[0]["topup_cents"] == 335
    assert events("task.completed")[0]["earnings_cents"] == 1255
    assert events("delivery.reviewed")[0]["topup_cents"] == 335
    assert Task.get_by_id(task.id).state == TaskState.COMPLETED


def test_a_topup_is_refused_where_none_is_due(app, assigned):
    task, member = assigned
    delivery = deliver(app, task, member, 30)
    response = login_client(app, task.client).post(f"/deliveries/{delivery.id}/accept-topup")
    assert response.status_code == 409
    assert not Earning.select().exists()


def test_auto_accept_pays_the_topup(app, assigned):
    task, member = assigned
    delivery = deliver(app, task, member, 90)  # 90 minutes at 12 €/h: 18 €
    Delivery.update(submitted_at=utcnow() - timedelta(hours=100)).where(
        Delivery.id == delivery.id).execute()
    with app.test_request_context():
        assert operations.auto_accept_overdue(utcnow()) == 1
    earning = Earning.get(Earning.task == task.id)
    assert (earning.earnings_cents, earning.topup_cents) == (1800, 1800 - NET)
    assert events("delivery.reviewed")[0]["auto"] is True
    assert events("task.completed")[0]["topup_cents"] == 1800 - NET


def test_the_pages_say_what_the_stated_time_implies(app, assigned):
    task, member = assigned
    delivery = deliver(app, task, member, 90)
    member_page = task_page(app, task, member)
    assert "implies pay below the floor" in member_page
    assert "€8.80" in member_page  # the top-up the client is asked for
    client_page = task_page(app, task, task.client)
    assert "€6.13/h" in client_page  # 9.20 € over 90 minutes
    assert f"/deliveries/{delivery.id}/accept-topup" in client_page
    assert f'action="/deliveries/{delivery.id}/accept"' not in client_page


def test_the_operation_refuses_a_stated_time_out_of_bounds(app, assigned):
    task, member = assigned
    with app.test_request_context(), pytest.raises(DomainError) as caught:
        operations.submit_delivery(member, task.id, stored(), "Done.", 0)
    assert caught.value.field == "minutes_spent"
    assert not Delivery.select().exists()
    with app.test_request_context(), pytest.raises(Conflict):
        delivery = operations.submit_delivery(member, task.id, stored(), "Done.", 120)
        operations.accept_delivery(task.client, delivery.id)


@pytest.mark.parametrize("upheld, topup", [(True, 880), (False, 0)])
def test_the_board_decides_a_disputed_stated_time(app, assigned, make_board, upheld, topup):
    task, member = assigned
    board = make_board()
    delivery = deliver(app, task, member, 90)  # a top-up of 8.80 € would be due
    web = login_client(app, task.client)
    assert web.post(f"/deliveries/{delivery.id}/dispute-time",
                    data={"reason": ""}).status_code == 400
    response = web.post(f"/deliveries/{delivery.id}/dispute-time",
                        data={"reason": "Thirty photos take thirty minutes, not ninety."})
    assert response.status_code == 302
    assert Task.get_by_id(task.id).state == TaskState.DISPUTED
    # While the board decides: no review by the client, no auto-acceptance.
    assert web.post(f"/deliveries/{delivery.id}/accept-topup").status_code == 409
    Delivery.update(submitted_at=utcnow() - timedelta(hours=100)).where(
        Delivery.id == delivery.id).execute()
    with app.test_request_context():
        assert operations.auto_accept_overdue(utcnow()) == 0
    assert not Earning.select().exists()
    assert "The client disputes the stated time" in task_page(app, task, member)

    (opened,) = Notification.select().where(Notification.kind == "dispute_opened")
    assert opened.user_id == board.id and json.loads(opened.params)["stated_time"] is True
    page = login_client(app, board).get("/board/disputes").get_data(as_text=True)
    assert "The member stated 90 minutes" in page
    dispute = Dispute.get(Dispute.delivery == delivery.id)
    with app.test_request_context():
        operations.resolve_dispute(board, dispute.id, upheld=upheld, reason="Timesheet seen.")
    earning = Earning.get(Earning.task == task.id)
    assert (earning.earnings_cents, earning.topup_cents) == (NET + topup, topup)
    assert Delivery.get_by_id(delivery.id).state == "accepted"
    assert Task.get_by_id(task.id).state == TaskState.COMPLETED
    resolved = events("dispute.resolved")[0]
    assert (resolved["dispute_kind"], resolved["outcome"]) == (
        "stated_time", "upheld" if upheld else "dismissed")
    assert events("task.completed")[0].get("topup_cents", 0) == topup
    # The member hears of it by the payment, not by a "your dispute" they never opened.
    kinds = [n.kind for n in Notification.select().where(Notification.user == member.id)]
    assert "task_paid" in kinds and "dispute_resolved" not in kinds


def test_only_a_flagged_delivery_can_have_its_time_disputed(app, assigned):
    task, member = assigned
    delivery = deliver(app, task, member, 30)
    response = login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/dispute-time", data={"reason": "Too long, surely."})
    assert response.status_code == 409
    assert not Dispute.select().exists()
    assert Task.get_by_id(task.id).state == TaskState.DELIVERED
