"""Rules that protect people. Nobody decides a dispute or a held rejection about their own
task (the operation refuses it; with no other board member the case waits, and the page says
why). A rejection needs a category and a reason that says something. After a final rejection
the client keeps the hashes but not the files, until the board decides a dispute about it
(upheld: accepted and paid; dismissed: the rejection stands, confirmed by the board). The board
sees each client's rejection rate, and past the rate it sets a client's rejections wait for a
board member to confirm or overturn them, without blocking the member meanwhile."""

import re
from datetime import timedelta

import pytest
from test_delivery_submit import login_client, post_delivery, stored, task_page

from coop.auth.tokens import create_token
from coop.delivery import operations
from coop.errors import DomainError, Forbidden
from coop.market import operations as market
from coop.models import (
    Delivery,
    DeliveryState,
    Dispute,
    Earning,
    Event,
    Parameter,
    RejectionReview,
    Task,
    TaskState,
    utcnow,
)

REASON = "The boxes miss half the bicycles."


def events(kind):
    return [e.payload for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def reject(app, delivery, reason=REASON, category="incomplete"):
    with app.test_request_context():
        return operations.reject_delivery(delivery.task.client, delivery.id, reason, category)


def dispute(app, delivery):
    with app.test_request_context():
        return operations.dispute_rejection(delivery.member, delivery.id, "Every box is there.")


def deliver(app, member, task, n=1):
    response = post_delivery(
        login_client(app, member), task, files=((f"attempt {n}".encode(), f"v{n}.csv"),)
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return Delivery.get((Delivery.task == task.id) & (Delivery.attempt == n))


def file_url(delivery, api=False):
    prefix = "/api/v1" if api else ""
    return f"{prefix}/deliveries/{delivery.id}/files/{delivery.files[0].id}"


def download(app, user, delivery):
    response = login_client(app, user).get(file_url(delivery))
    response.close()
    return response


@pytest.fixture
def assigned(make_task, make_member):
    member = make_member()
    return make_task(state=TaskState.ASSIGNED, member=member, assigned_at=utcnow()), member


# --- 13. nobody judges their own case -------------------------------------------------------


@pytest.mark.parametrize("party", ["member", "client"])
def test_a_board_member_who_is_a_party_cannot_resolve_the_dispute(
    app, make_task, make_member, make_board, party
):
    judge = make_board()
    if party == "member":
        task = make_task(state=TaskState.ASSIGNED, member=judge, assigned_at=utcnow())
        delivery = deliver(app, judge, task)
    else:
        task = make_task(client=judge, state=TaskState.ASSIGNED, member=make_member(),
                         assigned_at=utcnow())
        delivery = deliver(app, task.member, task)
    reject(app, delivery)
    opened = dispute(app, delivery)

    with app.test_request_context(), pytest.raises(Forbidden, match="party to this task"):
        operations.resolve_dispute(judge, opened.id, upheld=party == "member", reason="Mine.")
    web = login_client(app, judge)
    response = web.post(
        f"/board/disputes/{opened.id}/resolve",
        data={"outcome": "upheld", "reason": "Mine.", "confirmed": "1"},
    )
    assert response.status_code == 403
    assert "party to this task" in response.get_data(as_text=True)
    assert Dispute.get_by_id(opened.id).state == "open"
    assert not Earning.select().exists() and not events("dispute.resolved")

    # The only board member is a party: the dispute waits, and the page says why.
    page = web.get("/board/disputes").get_data(as_text=True)
    assert "waiting: every eligible board member is a party" in page
    assert f"/board/disputes/{opened.id}/resolve" not in page

    other = login_client(app, make_board())
    page = web.get("/board/disputes").get_data(as_text=True)
    assert "waiting: every eligible board member is a party" not in page
    assert "You are a party to this task: another board member decides." in page
    assert f"/board/disputes/{opened.id}/resolve" in other.get("/board/disputes").get_data(
        as_text=True
    )
    response = other.post(
        f"/board/disputes/{opened.id}/resolve",
        data={"outcome": "upheld", "reason": "Every box is there.", "confirmed": "1"},
    )
    assert response.status_code == 302
    assert Dispute.get_by_id(opened.id).state == "upheld"


# --- 14. a rejection says what is wrong -----------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [".", "no", "Bad work.", "....................", "a" * 30, "ab " * 10, "!?" * 15],
)
def test_a_rejection_needs_a_reason_that_says_something(app, assigned, reason):
    task, member = assigned
    delivery = deliver(app, member, task)
    response = login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/reject", data={"reason": reason, "category": "wrong"}
    )
    assert response.status_code == 400
    assert "at least 20 characters" in response.get_data(as_text=True)
    assert Delivery.get_by_id(delivery.id).state == DeliveryState.PENDING
    assert Task.get_by_id(task.id).state == TaskState.DELIVERED
    assert not events("delivery.reviewed")


@pytest.mark.parametrize("category", ["", "sloppy"])
def test_a_rejection_needs_a_category(app, assigned, category):
    task, member = assigned
    delivery = deliver(app, member, task)
    response = login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/reject", data={"reason": REASON, "category": category}
    )
    assert response.status_code == 400
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        operations.reject_delivery(task.client, delivery.id, REASON, category)
    assert refused.value.field == "category"
    assert Delivery.get_by_id(delivery.id).state == DeliveryState.PENDING


def test_the_category_is_recorded_shown_and_put_on_the_ledger(app, assigned):
    task, member = assigned
    delivery = deliver(app, member, task)
    response = login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/reject", data={"reason": REASON, "category": "late"}
    )
    assert response.status_code == 302
    assert Delivery.get_by_id(delivery.id).rejection_category == "late"
    assert events("delivery.reviewed")[0]["category"] == "late"
    assert "Late: delivered after the deadline" in task_page(app, task, member)


# --- 14. no work for free -------------------------------------------------------------------


def test_after_the_last_rejection_the_client_keeps_the_hashes_not_the_files(
    app, assigned, make_board
):
    task, member = assigned
    client, board = task.client, make_board()
    _row, token = create_token(client, "script")
    api = app.test_client()
    deliveries = []
    for n in (1, 2, 3):
        delivery = deliver(app, member, task, n)
        reject(app, delivery)
        deliveries.append(delivery)
        if n < 3:  # the member may still deliver: the client may look at what they rejected
            assert download(app, client, delivery).status_code == 200

    for delivery in deliveries:
        refused = download(app, client, delivery)
        assert refused.status_code == 403
        assert "the rejection is final" in refused.get_data(as_text=True)
        by_api = api.get(file_url(delivery, api=True),
                         headers={"Authorization": f"Bearer {token}"})
        assert by_api.status_code == 403
        assert download(app, member, delivery).status_code == 200
        assert download(app, board, delivery).status_code == 200
        # The proof of what was delivered stays with the client.
        bundle = login_client(app, client).get(f"/deliveries/{delivery.id}/bundle.json")
        assert bundle.status_code == 200

    page = task_page(app, task, client)
    for delivery in deliveries:
        assert delivery.files[0].sha256 in page and delivery.files[0].filename in page
        assert file_url(delivery) not in page
    assert file_url(deliveries[0]) in task_page(app, task, member)


@pytest.mark.parametrize("upheld", [True, False], ids=["upheld", "dismissed"])
def test_the_boards_decision_on_a_dispute_gives_the_client_the_files(
    app, assigned, make_board, upheld
):
    Parameter.create(key="max_attempts", value=1)
    task, member = assigned
    delivery = deliver(app, member, task)
    reject(app, delivery)
    assert download(app, task.client, delivery).status_code == 403
    opened = dispute(app, delivery)
    assert download(app, task.client, delivery).status_code == 403
    with app.test_request_context():
        operations.resolve_dispute(make_board(), opened.id, upheld=upheld, reason="Checked.")
    # Upheld: accepted and paid. Dismissed: the board confirmed the rejection.
    assert download(app, task.client, delivery).status_code == 200
    assert Earning.select().exists() is upheld


def test_releasing_a_rejected_task_makes_the_rejection_final(app, assigned):
    task, member = assigned
    delivery = deliver(app, member, task)
    reject(app, delivery)
    assert download(app, task.client, delivery).status_code == 200
    with app.test_request_context():
        market.release_task(member, task.id)
    assert download(app, task.client, delivery).status_code == 403


# --- 14. rejection rate and the board's review ----------------------------------------------


def history(make_task, make_member, client, accepted=0, rejected=0, auto=0):
    """Past deliveries of client's tasks, reviewed as given."""
    member = make_member()
    for state, count, is_auto, category in (
        (DeliveryState.ACCEPTED, accepted, False, None),
        (DeliveryState.REJECTED, rejected, False, "wrong"),
        (DeliveryState.ACCEPTED, auto, True, None),
    ):
        for _ in range(count):
            task = make_task(client=client, state=TaskState.COMPLETED, member=member)
            Delivery.create(task=task, member=member, attempt=1, state=state,
                            auto_accepted=is_auto, rejection_category=category)


def reviewed_through_operations(app, make_task, make_member, client, accepted, rejected):
    """Past reviews made by the operations themselves, so the ledger holds every entry."""
    member = make_member()
    for n, accept in enumerate([True] * accepted + [False] * rejected):
        task = make_task(client=client, state=TaskState.ASSIGNED, member=member,
                         assigned_at=utcnow())
        with app.test_request_context():
            body = f"history {n}".encode()
            delivery = operations.submit_delivery(member, task.id, stored(body=body), "")
            if accept:
                operations.accept_delivery(client, delivery.id)
            else:
                operations.reject_delivery(client, delivery.id, REASON, "wrong")


def test_the_board_sees_each_clients_rejection_rate(
    app, make_task, make_member, make_client_user, make_board
):
    picky, fair = make_client_user(name="Picky"), make_client_user(name="Fair")
    history(make_task, make_member, picky, accepted=1, rejected=2, auto=5)
    history(make_task, make_member, fair, accepted=9, rejected=1)
    page = login_client(app, make_board()).get("/board/members").get_data(as_text=True)

    def cells(client):
        row = re.search(rf'<tr id="client-{client.id}">(.*?)</tr>', page, re.S).group(1)
        return [c.strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]

    # Rejected, reviewed (automatic acceptances do not count), rate, held for the board.
    assert cells(picky)[2:] == ["2", "3", "66.66%", "no"]
    assert cells(fair)[2:] == ["1", "10", "10.00%", "no"]
    assert page.index("Picky") < page.index("Fair")


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "overturned"])
def test_past_the_rate_a_rejection_waits_for_the_board(
    app, make_task, make_member, make_board, confirmed
):
    member = make_board()  # a board member did the work: they may not decide
    task = make_task(state=TaskState.ASSIGNED, member=member, assigned_at=utcnow())
    Parameter.create(key="rejection_review_min_reviews", value=2)
    Parameter.create(key="max_active_tasks", value=1)
    # 50 % of 2 reviews: at or past the 30 % the board set.
    reviewed_through_operations(app, make_task, make_member, task.client, 1, 1)
    delivery = deliver(app, member, task)
    board = make_board()
    assert "yes" in login_client(app, board).get("/board/members").get_data(as_text=True)

    response = login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/reject", data={"reason": REASON, "category": "wrong"},
        follow_redirects=True,
    )
    assert "goes to the board first" in response.get_data(as_text=True)
    delivery = Delivery.get_by_id(delivery.id)
    assert delivery.state == DeliveryState.REJECTION_REVIEW
    assert (Task.get_by_id(task.id).state, Task.get_by_id(task.id).attempts) == (
        TaskState.DELIVERED, 1
    )
    (held,) = events("rejection.held")
    assert held["category"] == "wrong"
    assert (held["client_rejected"], held["client_reviewed"]) == (1, 2)
    assert len(events("delivery.reviewed")) == 2  # the history's, not this one
    assert download(app, task.client, delivery).status_code == 403
    assert "waits for the board" in task_page(app, task, member)
    with app.test_request_context():  # the review window does not decide for the board
        assert operations.auto_accept_overdue(utcnow() + timedelta(days=30)) == 0

    # The member is not blocked meanwhile: the held task does not count as held work.
    other = make_task()
    with app.test_request_context():
        market.claim_task(member, other.id)
        review = RejectionReview.get()
        with pytest.raises(Forbidden, match="party"):
            operations.decide_rejection(member, review.id, confirmed=False, reason="Mine.")

    web = login_client(app, board)
    assert "Rejections waiting for the board" in web.get("/board/disputes").get_data(
        as_text=True
    )
    outcome = "confirmed" if confirmed else "overturned"
    url = f"/board/rejections/{review.id}/decide"
    assert web.post(url, data={"outcome": outcome, "reason": ""}).status_code == 400
    assert web.post(url, data={"outcome": outcome, "reason": "Checked rows."}).status_code == 302
    assert web.post(url, data={"outcome": outcome, "reason": "Again."}).status_code == 409

    delivery = Delivery.get_by_id(delivery.id)
    task = Task.get_by_id(task.id)
    assert events("rejection.decided")[0]["outcome"] == outcome
    if confirmed:
        assert (delivery.state, task.state) == (DeliveryState.REJECTED, TaskState.REJECTED)
        assert not Earning.select().where(Earning.task == task.id).exists()
        assert "Resubmit" in task_page(app, task, member)
    else:
        assert (delivery.state, task.state) == (DeliveryState.ACCEPTED, TaskState.COMPLETED)
        assert Earning.get(Earning.task == task.id).earnings_cents == 920
        assert download(app, task.client, delivery).status_code == 200
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def test_below_the_rate_or_the_minimum_a_rejection_takes_effect(
    app, make_task, make_member, assigned
):
    task, member = assigned
    history(make_task, make_member, task.client, accepted=1, rejected=8)  # 9 reviews < 10
    delivery = deliver(app, member, task)
    reject(app, delivery)
    assert Delivery.get_by_id(delivery.id).state == DeliveryState.REJECTED
    assert not RejectionReview.select().exists()


def test_the_board_sets_the_new_parameters(app, make_board):
    from test_board_parameters import form_data

    web = login_client(app, make_board())
    response = web.post("/board/parameters", data=form_data(
        rejection_review_rate_bp="45", rejection_review_min_reviews="5",
        client_storage_quota_mb="100",
    ))
    assert response.status_code == 302
    (changed,) = events("parameters.changed")
    assert changed["changed"] == [
        "client_storage_quota_mb", "rejection_review_min_reviews", "rejection_review_rate_bp"
    ]
    assert changed["rejection_review_rate_bp"] == 4500
    refused = web.post("/board/parameters", data=form_data(rejection_review_rate_bp="2"))
    assert refused.status_code == 400
