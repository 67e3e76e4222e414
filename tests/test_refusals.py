"""A member is not offered a claim they cannot make: the task page says why instead (a cap, a
sensitive task without opting in). When an action is refused anyway (the cap was reached in
another tab, an award to a bidder at their cap), the person stays on the task page with the
reason, not on a bare error page, and nothing changes."""

import io
from datetime import timedelta

from conftest import login_client

from coop import files
from coop.delivery import operations as delivery_ops
from coop.market import operations as ops
from coop.models import Parameter, Task, TaskState, utcnow

CLAIM_BUTTON = "Claim this task"


def page(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_a_member_at_the_cap_is_told_why_instead_of_offered_a_claim(
    app, make_member, make_task
):
    Parameter.create(key="max_active_tasks", value=1)
    member = make_member()
    ops.claim_task(member, make_task().id)
    task = make_task(title="Label 10 bikes")
    text = page(login_client(app, member).get(f"/tasks/{task.id}"))
    assert CLAIM_BUTTON not in text
    assert "You cannot claim this task now: The limit is 1 active tasks" in text
    # A member with room is offered the button.
    assert CLAIM_BUTTON in page(login_client(app, make_member()).get(f"/tasks/{task.id}"))


def test_a_sensitive_task_is_not_offered_to_a_member_who_did_not_opt_in(
    app, make_member, make_task
):
    task = make_task(sensitive=True, content_note="Violent images")
    text = page(login_client(app, make_member()).get(f"/tasks/{task.id}"))
    assert CLAIM_BUTTON not in text and "only members who accept sensitive tasks" in text
    opted = make_member(sensitive_opt_in=True)
    assert CLAIM_BUTTON in page(login_client(app, opted).get(f"/tasks/{task.id}"))


def test_a_refused_claim_stays_on_the_task_page_with_the_reason(app, make_member, make_task):
    member = make_member()
    task = make_task(title="Label 10 bikes")
    client = login_client(app, member)
    assert CLAIM_BUTTON in page(client.get(f"/tasks/{task.id}"))
    # Meanwhile, in another tab, the member fills their cap.
    Parameter.create(key="max_active_tasks", value=1)
    ops.claim_task(member, make_task().id)
    response = client.post(f"/tasks/{task.id}/claim")
    assert response.status_code == 400
    text = page(response)
    assert "Label 10 bikes" in text  # the task page, not the error page
    assert 'class="flash flash-error" role="status">The limit is 1 active tasks' in text
    assert Task.get_by_id(task.id).state == TaskState.OPEN


def test_a_refused_award_stays_on_the_task_page_with_the_bids(
    app, make_member, make_client_user, make_task
):
    client = make_client_user()
    bidder = make_member()
    task = ops.post_task(
        client,
        title="Check 40 IDs",
        description="Compare photos to documents.",
        instructions="",
        category="id_check",
        estimated_minutes=30,
        deadline=utcnow() + timedelta(days=2),
        pricing="bids",
        budget_cents=2000,
        bidding_deadline=utcnow() + timedelta(days=1),
    )
    bid = ops.place_bid(bidder, task.id, amount_cents=1500, eta_hours=4)
    Parameter.create(key="max_active_tasks", value=1)
    ops.claim_task(bidder, make_task().id)
    response = login_client(app, client).post(f"/bids/{bid.id}/award", data={"confirmed": "1"})
    assert response.status_code == 400
    text = page(response)
    assert "Check 40 IDs" in text and bidder.pseudonym in text
    assert "The limit is 1 active tasks" in text
    assert Task.get_by_id(task.id).state == TaskState.OPEN


def test_a_bid_refused_as_bidding_closed_stays_on_the_task_page(
    app, make_member, make_client_user
):
    member = make_member()
    task = ops.post_task(
        make_client_user(),
        title="Check 40 IDs",
        description="Compare photos to documents.",
        instructions="",
        category="id_check",
        estimated_minutes=30,
        deadline=utcnow() + timedelta(days=2),
        pricing="bids",
        budget_cents=2000,
        bidding_deadline=utcnow() + timedelta(days=1),
    )
    client = login_client(app, member)
    assert "Place a bid" in page(client.get(f"/tasks/{task.id}"))
    # The bidding deadline passes while the member types.
    Task.update(bidding_deadline=utcnow() - timedelta(minutes=1)).where(
        Task.id == task.id
    ).execute()
    response = client.post(
        f"/tasks/{task.id}/bid",
        data={"amount": "17.50", "eta_hours": "6", "note": "Fast and careful."},
    )
    assert response.status_code == 400
    text = page(response)
    assert "The bidding deadline has passed." in text and "Check 40 IDs" in text
    assert ops.bid_of(member, task) is None


def test_a_rejection_refused_as_already_reviewed_keeps_the_form_and_its_text(
    app, make_member, make_task
):
    member = make_member()
    task = make_task(state=TaskState.ASSIGNED, member=member, assigned_at=utcnow())
    stored = files.save(io.BytesIO(b"bike,1 2 3 4\n"), "boxes.csv", "text/csv")
    delivery = delivery_ops.submit_delivery(member, task.id, [stored], "Done.")
    client = login_client(app, task.client)
    # Accepted in another tab while the client was writing a rejection.
    delivery_ops.accept_delivery(task.client, delivery.id)
    reason = "The boxes miss half of the bicycles here."
    response = client.post(
        f"/deliveries/{delivery.id}/reject", data={"reason": reason, "category": "incomplete"}
    )
    assert response.status_code == 409
    text = page(response)
    assert "This delivery has already been reviewed." in text
    assert reason in text  # the client's words are still in the form
    assert Task.get_by_id(task.id).state == TaskState.COMPLETED
