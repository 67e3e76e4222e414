"""Reviewing deliveries: acceptance (manual, automatic after the review window, or by an upheld
dispute) completes the task once and pays price minus the coop's margin; a rejection needs a
reason; disputes go to the board, whose decision pays the member or reopens the task; each
step records its event; the member's "my work" page adds up this month's earnings."""

import hashlib
import threading
from datetime import timedelta

import pytest
from test_delivery_submit import login_client, post_delivery, stored, task_page

from coop import calendar
from coop.db import database
from coop.delivery import operations
from coop.errors import Conflict, DomainError
from coop.models import (
    Delivery,
    Dispute,
    Earning,
    Event,
    Parameter,
    Task,
    TaskState,
    utcnow,
)


@pytest.fixture
def delivered(app, make_task, make_member):
    """A 10 € task delivered by its member; returns (task, member, delivery)."""
    member = make_member()
    task = make_task(state=TaskState.ASSIGNED, member=member, assigned_at=utcnow())
    with app.test_request_context():
        delivery = operations.submit_delivery(member, task.id, stored(), "Done.")
    return task, member, delivery


def events(kind):
    return [e.payload for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def reject(app, task, delivery, reason="The boxes miss half the bicycles.", category="incomplete"):
    with app.test_request_context():
        return operations.reject_delivery(task.client, delivery.id, reason, category)


def dispute(app, member, delivery, reason="Every bicycle is boxed; see rows 3-40."):
    with app.test_request_context():
        return operations.dispute_rejection(member, delivery.id, reason)


def test_accept_credits_price_minus_the_margin(app, delivered):
    task, member, delivery = delivered
    response = login_client(app, task.client).post(f"/deliveries/{delivery.id}/accept")
    assert response.status_code == 302

    task = Task.get_by_id(task.id)
    assert task.state == TaskState.COMPLETED and task.completed_at is not None
    assert Delivery.get_by_id(delivery.id).state == "accepted"
    earning = Earning.get(Earning.task == task.id)
    assert earning.member_id == member.id
    assert (earning.price_cents, earning.earnings_cents, earning.margin_cents) == (1000, 920, 80)
    assert events("delivery.reviewed") == [
        {
            "task": task.id,
            "delivery": delivery.id,
            "outcome": "accepted",
            "reason_sha256": "",
            "auto": False,
        }
    ]
    assert events("task.completed") == [
        {
            "task": task.id,
            "delivery": delivery.id,
            "price_cents": 1000,
            "earnings_cents": 920,
            "margin_cents": 80,
            "currency": "EUR",
            "member": member.pseudonym,
        }
    ]


def test_the_margin_follows_the_board_parameter(app, delivered):
    task, _member, delivery = delivered
    Parameter.create(key="margin_bp", value=1250)
    with app.test_request_context():
        operations.accept_delivery(task.client, delivery.id)
    earning = Earning.get(Earning.task == task.id)
    assert (earning.earnings_cents, earning.margin_cents) == (875, 125)


def test_double_accept_is_refused_and_pays_once(app, delivered):
    task, _member, delivery = delivered
    web = login_client(app, task.client)
    assert web.post(f"/deliveries/{delivery.id}/accept").status_code == 302
    response = web.post(f"/deliveries/{delivery.id}/accept")
    assert response.status_code == 409
    assert "already been reviewed" in response.get_data(as_text=True)
    with app.test_request_context(), pytest.raises(Conflict):
        operations.reject_delivery(
            task.client, delivery.id, "Changed my mind about the boxes.", "other"
        )
    assert Earning.select().count() == 1
    assert len(events("task.completed")) == 1 and len(events("delivery.reviewed")) == 1
    assert Task.get_by_id(task.id).state == TaskState.COMPLETED


def test_a_review_racing_auto_acceptance_pays_once(app, delivered):
    task, _member, delivery = delivered
    Delivery.update(submitted_at=utcnow() - timedelta(days=4)).execute()
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name, action):
        with app.test_request_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                outcomes[name] = action()
            except Conflict:
                outcomes[name] = "conflict"
            except Exception as error:  # reported by the assertion below, not lost in a thread
                outcomes[name] = repr(error)
            finally:
                database.close()

    def accept():
        return operations.accept_delivery(task.client, delivery.id).state

    def tick():
        return operations.auto_accept_overdue(utcnow())

    threads = [threading.Thread(target=run, args=(name, f)) for name, f in
               (("client", accept), ("tick", tick))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Either the client's acceptance or the tick's, never both, never neither.
    assert outcomes in ({"client": "accepted", "tick": 0}, {"client": "conflict", "tick": 1})
    assert Earning.select().count() == 1
    assert len(events("task.completed")) == 1 and len(events("delivery.reviewed")) == 1


def test_only_the_tasks_client_can_review(app, delivered, make_client_user, make_member):
    _task, member, delivery = delivered
    other_client = login_client(app, make_client_user())
    assert other_client.post(f"/deliveries/{delivery.id}/accept").status_code == 404
    assert (
        other_client.post(f"/deliveries/{delivery.id}/reject", data={"reason": "no"}).status_code
        == 404
    )
    assert login_client(app, member).post(f"/deliveries/{delivery.id}/accept").status_code == 403
    assert Delivery.get_by_id(delivery.id).state == "pending"
    assert not Event.select().where(Event.kind == "delivery.reviewed").exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_changes_nothing(app, delivered, reason):
    task, _member, delivery = delivered
    response = login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/reject", data={"reason": reason}
    )
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert Delivery.get_by_id(delivery.id).state == "pending"
    assert Task.get_by_id(task.id).state == TaskState.DELIVERED
    assert not Event.select().where(Event.kind == "delivery.reviewed").exists()
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        operations.reject_delivery(task.client, delivery.id, reason, "wrong")
    assert refused.value.field == "reason"


def test_reject_with_a_reason_lets_the_member_resubmit(app, delivered):
    task, member, delivery = delivered
    reason = "The boxes miss half the bicycles."
    response = login_client(app, task.client).post(
        f"/deliveries/{delivery.id}/reject", data={"reason": reason, "category": "incomplete"}
    )
    assert response.status_code == 302
    delivery = Delivery.get_by_id(delivery.id)
    assert (delivery.state, delivery.review_reason) == ("rejected", reason)
    assert Task.get_by_id(task.id).state == TaskState.REJECTED
    (reviewed,) = events("delivery.reviewed")
    assert reviewed["outcome"] == "rejected" and reviewed["reason_sha256"] == sha(reason)
    assert reason not in Event.get(Event.kind == "delivery.reviewed").data
    page = task_page(app, task, member)
    assert reason in page and "Dispute the rejection" in page and "Resubmit" in page

    assert post_delivery(login_client(app, member), task).status_code == 302
    second = Delivery.get((Delivery.task == task.id) & (Delivery.attempt == 2))
    assert second.state == "pending"
    assert Task.get_by_id(task.id).state == TaskState.DELIVERED


def test_auto_accept_after_the_review_window_and_not_before(app, delivered):
    task, member, delivery = delivered
    window = timedelta(hours=72)
    submitted = utcnow() - timedelta(hours=100)
    Delivery.update(submitted_at=submitted).where(Delivery.id == delivery.id).execute()

    with app.test_request_context():
        assert operations.auto_accept_overdue(submitted + window - timedelta(seconds=1)) == 0
        assert Delivery.get_by_id(delivery.id).state == "pending"
        assert not Earning.select().exists()

        assert operations.auto_accept_overdue(utcnow()) == 1
        assert operations.auto_accept_overdue(utcnow()) == 0

    delivery = Delivery.get_by_id(delivery.id)
    assert (delivery.state, delivery.auto_accepted) == ("accepted", True)
    assert Task.get_by_id(task.id).state == TaskState.COMPLETED
    assert Earning.get(Earning.task == task.id).earnings_cents == 920
    assert events("delivery.reviewed")[0]["auto"] is True
    assert events("task.completed")[0]["member"] == member.pseudonym


def test_auto_accept_leaves_reviewed_deliveries_alone(app, delivered):
    task, _member, delivery = delivered
    reject(app, task, delivery)
    Delivery.update(submitted_at=utcnow() - timedelta(days=30)).execute()
    with app.test_request_context():
        assert operations.auto_accept_overdue(utcnow()) == 0
    assert Task.get_by_id(task.id).state == TaskState.REJECTED


def test_dispute_upheld_by_the_board_pays_the_member(app, delivered, make_board):
    task, member, delivery = delivered
    reject(app, task, delivery)
    response = login_client(app, member).post(
        f"/deliveries/{delivery.id}/dispute", data={"reason": "Every bicycle is boxed."}
    )
    assert response.status_code == 302
    assert Task.get_by_id(task.id).state == TaskState.DISPUTED
    opened = Dispute.get(Dispute.delivery == delivery.id)

    board = login_client(app, make_board())
    page = board.get("/board/disputes").get_data(as_text=True)
    assert delivery.files[0].sha256 in page
    assert "The boxes miss half the bicycles." in page and "Every bicycle is boxed." in page

    response = board.post(
        f"/board/disputes/{opened.id}/resolve",
        data={"outcome": "upheld", "reason": "Rows 3-40 show every bicycle.", "confirmed": "1"},
    )
    assert response.status_code == 302
    assert Dispute.get_by_id(opened.id).state == "upheld"
    assert Delivery.get_by_id(delivery.id).state == "accepted"
    task = Task.get_by_id(task.id)
    assert task.state == TaskState.COMPLETED and task.member_id == member.id
    assert Earning.get(Earning.task == task.id).earnings_cents == 920
    assert events("dispute.resolved") == [
        {
            "dispute": opened.id,
            "task": task.id,
            "delivery": delivery.id,
            "outcome": "upheld",
            "reason_sha256": sha("Rows 3-40 show every bicycle."),
        }
    ]
    assert len(events("task.completed")) == 1
    assert "Rows 3-40 show every bicycle." in board.get("/board/disputes").get_data(as_text=True)
    assert "Rows 3-40 show every bicycle." in task_page(app, task, member)


def test_dispute_dismissed_reopens_the_task_to_others(app, delivered, make_board):
    task, member, delivery = delivered
    reject(app, task, delivery)
    opened = dispute(app, member, delivery)
    with app.test_request_context():
        resolved = operations.resolve_dispute(
            make_board(), opened.id, upheld=False, reason="Half the boxes are missing."
        )
    assert resolved.state == "dismissed"
    task = Task.get_by_id(task.id)
    assert (task.state, task.member_id, task.attempts) == (TaskState.OPEN, None, 0)
    assert Delivery.get_by_id(delivery.id).state == "rejected"
    assert not Earning.select().exists()
    assert events("dispute.resolved")[0]["outcome"] == "dismissed"


def test_a_dispute_is_decided_once(app, delivered, make_board):
    task, member, delivery = delivered
    reject(app, task, delivery)
    opened = dispute(app, member, delivery)
    with app.test_request_context():
        with pytest.raises(Conflict):
            dispute(app, member, delivery)
        operations.resolve_dispute(make_board(), opened.id, upheld=True, reason="Fine.")
        with pytest.raises(Conflict):
            operations.resolve_dispute(make_board(), opened.id, upheld=False, reason="No.")
    assert Dispute.select().count() == 1
    assert len(events("dispute.resolved")) == 1 and Earning.select().count() == 1


def test_disputes_need_the_right_person_and_a_reason(
    app, delivered, make_member, make_board
):
    task, member, delivery = delivered
    web = login_client(app, member)
    # Not rejected yet: nothing to dispute.
    assert web.post(
        f"/deliveries/{delivery.id}/dispute", data={"reason": "Why?"}
    ).status_code == 409
    reject(app, task, delivery)
    other = login_client(app, make_member())
    assert other.post(f"/deliveries/{delivery.id}/dispute", data={"reason": "x"}).status_code == 404
    assert web.post(f"/deliveries/{delivery.id}/dispute", data={"reason": ""}).status_code == 400
    assert not Dispute.select().exists()

    opened = dispute(app, member, delivery)
    url = f"/board/disputes/{opened.id}/resolve"
    confirmed = {"confirmed": "1"}
    assert web.post(url, data={"outcome": "upheld", "reason": "mine", **confirmed}).status_code \
        == 403
    assert web.get("/board/disputes").status_code == 403
    board = login_client(app, make_board())
    for bad in ({"outcome": "upheld", "reason": ""}, {"outcome": "maybe", "reason": "x"}):
        assert board.post(url, data={**bad, **confirmed}).status_code == 400
    assert Dispute.get_by_id(opened.id).state == "open"
    assert Task.get_by_id(task.id).state == TaskState.DISPUTED
    assert not Event.select().where(Event.kind == "dispute.resolved").exists()


def test_my_work_sorts_tasks_and_adds_up_this_months_earnings(
    app, make_task, make_member, delivered
):
    _task, member, _delivery = delivered  # waiting for review
    active = make_task(title="Transcribe a call", state=TaskState.ASSIGNED, member=member)
    done = make_task(
        title="Clip 20 photos", state=TaskState.COMPLETED, member=member, price_cents=2000
    )
    Earning.create(member=member, task=done, price_cents=2000, earnings_cents=1840,
                   margin_cents=160)
    month_start = calendar.month(utcnow()).start
    old = make_task(title="Old job", state=TaskState.COMPLETED, member=member)
    Earning.create(member=member, task=old, price_cents=1000, earnings_cents=920,
                   margin_cents=80, created_at=month_start - timedelta(seconds=1))

    with app.test_request_context():
        work = operations.my_work(member)
    assert [t.id for t in work.active] == [active.id]
    assert [w.task.title for w in work.waiting] == ["Label 50 photos"]
    waiting = work.waiting[0]
    assert waiting.auto_accept_at == waiting.delivery.submitted_at + timedelta(hours=72)
    assert {h.task.title for h in work.history} == {"Clip 20 photos", "Old job"}
    assert work.earnings_this_month_cents == 1840

    page = login_client(app, member).get("/my-work")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for title in ("Transcribe a call", "Label 50 photos", "Clip 20 photos", "€18.40"):
        assert title in text
    assert login_client(app, _task.client).get("/my-work").status_code == 403
