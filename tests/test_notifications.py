"""Notifications: each event (an award, a rejection, a dispute and its outcome, a payment, a
delivery waiting with its auto-accept deadline, an application, rejected project answers) tells
the right people and nobody else, inside the operation's transaction; mail follows for the kinds
each person wants, written to the outbox or sent over real SMTP only after the commit, so a
rolled-back operation sends nothing; the navigation counts the unread ones, the page lists them
(paginated), opening one (POST) marks it read and GET never does; nobody reaches another's."""

import email
import email.policy
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import smtp_server
from conftest import login_client
from projects_support import make_project

from coop import files, params
from coop.auth.operations import apply_for_membership
from coop.db import write_transaction
from coop.delivery import operations as delivery_ops
from coop.market import operations as market_ops
from coop.models import Notification, NotificationKind, Role, TaskState, utcnow
from coop.notifications import operations as notify_ops
from coop.projects import operations as project_ops

K = NotificationKind
REASON = "The boxes miss half the bicycles."


def kinds_of(user) -> list[str]:
    rows = Notification.select().where(Notification.user == user.id).order_by(Notification.id)
    return [row.kind for row in rows]


def everyone(*users) -> dict:
    return {u.name: kinds_of(u) for u in users}


def outbox(app) -> list[str]:
    """The mails written to the outbox as "To / Subject / body" text, oldest first."""
    folder = Path(app.config["INSTANCE_DIR"]) / "outbox"
    paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths
    ]
    return [f"To: {m['To']}\nSubject: {m['Subject']}\n\n{m.get_content()}" for m in messages]


def recipients(app) -> list[str]:
    return sorted(text.splitlines()[0].removeprefix("To: ") for text in outbox(app))


def stored():
    return [files.save(io.BytesIO(b"bike,1 2 3 4\n"), "boxes.csv", "text/csv")]


@pytest.fixture
def people(make_member, make_client_user, make_board):
    return {
        "member": make_member(),
        "other": make_member(),
        "client": make_client_user(),
        "board": make_board(),
        "board2": make_board(),
    }


@pytest.fixture
def delivered(app, people, make_task):
    """A task of the client's, delivered by the member; the outbox emptied of what came before."""
    member, client = people["member"], people["client"]
    task = make_task(client, state=TaskState.ASSIGNED, member=member, assigned_at=utcnow())
    delivery = delivery_ops.submit_delivery(member, task.id, stored(), "Done.")
    return task, delivery


def test_an_award_tells_the_winning_bidder_only(app, people):
    member, other, client = people["member"], people["other"], people["client"]
    task = market_ops.post_task(
        client,
        title="Moderate 100 comments",
        description="Remove spam.",
        instructions="Follow the charter.",
        category="moderation",
        estimated_minutes=60,
        deadline=utcnow() + timedelta(days=2),
        pricing="bids",
        budget_cents=2000,
        bidding_deadline=utcnow() + timedelta(days=1),
    )
    bid = market_ops.place_bid(member, task.id, amount_cents=1800, eta_hours=5, note="")
    market_ops.place_bid(other, task.id, amount_cents=1900, eta_hours=5, note="")
    assert login_client(app, client).post(
        f"/bids/{bid.id}/award", data={"confirmed": "1"}).status_code == 302
    assert everyone(*people.values()) == {
        member.name: [K.BID_AWARDED], other.name: [], client.name: [],
        people["board"].name: [], people["board2"].name: [],
    }
    assert recipients(app) == [member.email]
    (mail,) = outbox(app)
    assert "Subject: Coop: Your bid won: “Moderate 100 comments” is yours for €18.00." in mail
    assert f"http://127.0.0.1:5000/tasks/{task.id}" in mail


def test_a_delivery_tells_its_client_the_auto_accept_deadline(app, people, delivered):
    task, delivery = delivered
    assert everyone(*people.values())[people["client"].name] == [K.DELIVERY_WAITING]
    assert [u for u, kinds in everyone(*people.values()).items() if kinds] == [
        people["client"].name
    ]
    (row,) = Notification.select().where(Notification.user == people["client"].id)
    window = timedelta(hours=params.current().review_window_hours)
    deadline = row.values["deadline"]
    assert deadline == (delivery.submitted_at + window).isoformat()
    assert recipients(app) == [people["client"].email]
    # The page says when it is accepted by itself, in the client's time zone (Paris: UTC+1).
    page = login_client(app, people["client"]).get("/notifications").get_data(as_text=True)
    paris = delivery.submitted_at + window + timedelta(hours=1)
    assert "accepted automatically on" in page and paris.strftime("%-I:%M") in page


def test_a_rejection_tells_the_member_and_a_dispute_tells_the_impartial_board(
    app, people, delivered
):
    task, delivery = delivered
    member, client = people["member"], people["client"]
    delivery_ops.reject_delivery(client, delivery.id, REASON, "incomplete")
    assert kinds_of(member) == [K.DELIVERY_REJECTED]
    # The member sits on the board too, in a second case: they are a party, so not told.
    delivery_ops.dispute_rejection(member, delivery.id, "Every bicycle is boxed; see rows 3.")
    assert everyone(*people.values()) == {
        member.name: [K.DELIVERY_REJECTED],
        people["other"].name: [],
        client.name: [K.DELIVERY_WAITING],
        people["board"].name: [K.DISPUTE_OPENED],
        people["board2"].name: [K.DISPUTE_OPENED],
    }
    assert recipients(app) == sorted(
        [client.email, member.email, people["board"].email, people["board2"].email]
    )


def test_a_board_member_party_to_a_dispute_is_not_told_of_it(app, people, make_task):
    judge, worker = people["board"], people["board2"]
    task = make_task(people["client"], state=TaskState.ASSIGNED, member=worker,
                     assigned_at=utcnow())
    delivery = delivery_ops.submit_delivery(worker, task.id, stored(), "Done.")
    delivery_ops.reject_delivery(people["client"], delivery.id, REASON, "wrong")
    delivery_ops.dispute_rejection(worker, delivery.id, "Every bicycle is boxed; see rows 3.")
    assert kinds_of(judge) == [K.DISPUTE_OPENED]
    assert kinds_of(worker) == [K.DELIVERY_REJECTED]


@pytest.mark.parametrize("upheld", [True, False])
def test_a_dispute_outcome_tells_the_member(app, people, delivered, upheld):
    task, delivery = delivered
    member = people["member"]
    delivery_ops.reject_delivery(people["client"], delivery.id, REASON, "incomplete")
    dispute = delivery_ops.dispute_rejection(member, delivery.id, "All boxed; see rows 3-40.")
    before = {u.name: kinds_of(u) for u in people.values()}
    delivery_ops.resolve_dispute(people["board"], dispute.id, upheld=upheld,
                                 reason="The rows are all there.")
    paid = [K.TASK_PAID] if upheld else []
    after = {u.name: kinds_of(u) for u in people.values()}
    assert after == {**before, member.name: before[member.name] + paid + [K.DISPUTE_RESOLVED]}
    (row,) = Notification.select().where(
        (Notification.user == member.id) & (Notification.kind == K.DISPUTE_RESOLVED)
    )
    assert row.values["upheld"] is upheld


def test_acceptance_tells_the_member_what_was_credited_in_the_app_only(app, people, delivered):
    task, delivery = delivered
    member = people["member"]
    mails = len(outbox(app))
    response = login_client(app, people["client"]).post(f"/deliveries/{delivery.id}/accept")
    assert response.status_code == 302
    assert kinds_of(member) == [K.TASK_PAID]
    (row,) = Notification.select().where(Notification.user == member.id)
    assert row.values["cents"] == 920  # 10 € less the 8 % margin
    assert len(outbox(app)) == mails  # payments are not mailed unless asked for


def test_auto_acceptance_by_the_tick_mails_a_member_who_asked(app, people, delivered, runner):
    task, delivery = delivered
    member = people["member"]
    notify_ops.set_email_kinds(member, [K.TASK_PAID])
    window = params.current().review_window_hours
    assert delivery_ops.auto_accept_overdue(utcnow() + timedelta(hours=window + 1)) == 1
    assert kinds_of(member) == [K.TASK_PAID]
    assert member.email in recipients(app)
    (mail,) = [m for m in outbox(app) if "credited to you" in m]
    assert "€9.20" in mail and f"http://127.0.0.1:5000/tasks/{task.id}" in mail


def test_an_application_tells_the_board(app, people):
    applicant = apply_for_membership("new@example.test", "Nina New", "long password 123", "Hi")
    assert everyone(*people.values()) == {
        **{u.name: [] for u in people.values()},
        people["board"].name: [K.APPLICATION_RECEIVED],
        people["board2"].name: [K.APPLICATION_RECEIVED],
    }
    assert kinds_of(applicant) == []
    page = login_client(app, people["board"]).get("/notifications").get_data(as_text=True)
    assert "Nina New applied to join the coop." in page


def test_a_rejected_project_answer_tells_its_member(app, people):
    member, client = people["member"], people["client"]
    project = make_project(client)
    first = project_ops.next_assignment(member, project)
    answer, _following = project_ops.answer_and_next(member, first, {"label": ["keep"]})
    project_ops.reject_answer(client, answer, "wrong", "These comments are spam, remove them.")
    assert everyone(*people.values()) == {
        **{u.name: [] for u in people.values()},
        member.name: [K.ANSWERS_REJECTED],
    }


def test_a_rolled_back_operation_notifies_and_mails_nobody(app, people):
    with pytest.raises(RuntimeError):
        with write_transaction():
            apply_for_membership("new@example.test", "Nina New", "long password 123", "Hi")
            raise RuntimeError("something later failed")
    assert Notification.select().count() == 0
    assert outbox(app) == []
    # The next committed operation mails only its own notifications.
    apply_for_membership("two@example.test", "Two", "long password 123", "Hi")
    assert len(outbox(app)) == 2


def test_preferences_choose_which_kinds_come_by_mail(app, people, delivered):
    task, delivery = delivered
    member = people["member"]
    client = login_client(app, member)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    checked = re.findall(r'<input checked [^>]*value="(\w+)"', page)
    assert checked == ["bid_awarded", "delivery_rejected", "dispute_resolved", "vote_opened",
                       "fraud_reported", "fraud_decided"]
    assert "A delivery waits for my review" not in page  # a client's kind
    response = client.post("/notifications/preferences", data={"email_kinds": ["task_paid"]})
    assert response.status_code == 302
    mails = len(outbox(app))
    delivery_ops.reject_delivery(people["client"], delivery.id, REASON, "incomplete")
    assert kinds_of(member) == [K.DELIVERY_REJECTED]  # still told in the app
    assert len(outbox(app)) == mails  # but not mailed


def test_a_kind_not_offered_is_refused_and_changes_nothing(app, people):
    client = login_client(app, people["client"])
    response = client.post("/notifications/preferences", data={"email_kinds": ["bid_awarded"]})
    assert response.status_code == 400
    assert "Choose among the notifications offered." in response.get_data(as_text=True)
    assert notify_ops.email_kinds(people["client"]) == [K.DELIVERY_WAITING]


def test_mail_goes_over_smtp_after_the_commit_and_a_failing_server_loses_only_mail(
    app, people
):
    controller, inbox = smtp_server.start("coop mailer", "pw")
    app.config["SMTP_URL"] = f"smtp://{quote('coop mailer')}:pw@127.0.0.1:{controller.port}"
    try:
        apply_for_membership("new@example.test", "Nina New", "long password 123", "Hi")
    finally:
        controller.stop()
    assert sorted(r for rs, _m in inbox.messages for r in rs) == sorted(
        [people["board"].email, people["board2"].email]
    )
    (_to, message) = inbox.messages[0]
    assert "Nina New applied" in message["Subject"]
    # The server is gone now: the application still stands, and the board is told in the app.
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.free_port()}"
    apply_for_membership("two@example.test", "Two", "long password 123", "Hi")
    assert kinds_of(people["board"]) == [K.APPLICATION_RECEIVED] * 2


def test_a_mail_gives_times_in_its_readers_time_zone(app, people, make_task):
    client, member = people["client"], people["member"]
    client.timezone = "Asia/Tokyo"
    client.save()
    task = make_task(client, state=TaskState.ASSIGNED, member=member, assigned_at=utcnow())
    delivery = delivery_ops.submit_delivery(member, task.id, stored(), "Done.")
    window = timedelta(hours=params.current().review_window_hours)
    tokyo = delivery.submitted_at + window + timedelta(hours=9)
    (mail,) = outbox(app)
    assert f"To: {client.email}" in mail
    assert f"accepted automatically on {tokyo:%b} {tokyo.day}, {tokyo.year}" in mail
    assert f"{tokyo.hour % 12 or 12}:{tokyo:%M}" in mail  # medium date, short time
    assert f"http://127.0.0.1:5000/tasks/{task.id}" in mail


# --- the pages ----------------------------------------------------------------------------------


def test_the_navigation_counts_unread_and_get_never_marks_read(app, people, delivered):
    client = login_client(app, people["client"])
    page = client.get("/client").get_data(as_text=True)
    assert '<mark aria-label="1 unread">1</mark>' in page
    client.get("/notifications")
    client.get("/notifications?page=1")
    assert Notification.select().where(Notification.read_at.is_null()).count() == 1
    other = login_client(app, people["member"]).get("/tasks").get_data(as_text=True)
    assert "<mark" not in other


def test_opening_one_marks_it_read_and_leads_to_its_subject(app, people, delivered):
    task, delivery = delivered
    client = login_client(app, people["client"])
    (row,) = Notification.select().where(Notification.user == people["client"].id)
    response = client.post(f"/notifications/{row.id}/open")
    assert response.status_code == 302 and response.location.endswith(f"/tasks/{task.id}")
    assert Notification.get_by_id(row.id).read_at is not None
    assert "<mark" not in client.get("/client").get_data(as_text=True)


def test_nobody_sees_or_opens_anothers_notifications(app, people, delivered):
    (row,) = Notification.select().where(Notification.user == people["client"].id)
    for someone in ("member", "other", "board"):
        client = login_client(app, people[someone])
        assert client.post(f"/notifications/{row.id}/open").status_code == 404
        assert "waits for your review" not in client.get("/notifications").get_data(
            as_text=True
        )
        client.post("/notifications/read-all")
    assert Notification.get_by_id(row.id).read_at is None
    assert app.test_client().get("/notifications").status_code == 302  # sign in first


def test_mark_all_read_and_pagination(app, people):
    board = people["board"]
    for n in range(25):
        apply_for_membership(f"a{n}@example.test", f"Applicant {n}", "long password 123", "Hi")
    client = login_client(app, board)
    first = client.get("/notifications").get_data(as_text=True)
    assert first.count("applied to join") == 20 and "Applicant 24 applied" in first
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert second.count("applied to join") == 5 and "Applicant 0 applied" in second
    assert client.get("/notifications?page=x").status_code == 400
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "25 notifications marked read." in response.get_data(as_text=True)
    assert kinds_of(people["board2"]) == [K.APPLICATION_RECEIVED] * 25
    assert Notification.select().where(
        (Notification.user == board.id) & Notification.read_at.is_null()
    ).count() == 0


def test_the_unread_count_is_one_query(app, people, delivered):
    from coop.db import database
    from coop.notifications.queries import unread_count

    queries = []
    original = database.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        queries.append(sql)
        return original(sql, params, *args, **kwargs)

    database.obj.execute_sql = counting
    try:
        assert unread_count(people["client"].id) == 1
    finally:
        database.obj.execute_sql = original
    assert len(queries) == 1 and "COUNT" in queries[0].upper()
    assert Role.CLIENT == people["client"].role


def test_mail_waits_in_the_queue_for_a_worker_and_a_failed_send_is_tried_again(
    app, people, tmp_path
):
    from coop import jobs

    app.config["QUEUE_URL"] = f"sqlite:///{tmp_path / 'queue.db'}"
    jobs.init_app(app)
    queue = jobs.queue()
    apply_for_membership("new@example.test", "Nina New", "long password 123", "Hi")
    # Committed and told in the app at once; the mail is the worker's to send.
    assert kinds_of(people["board"]) == [K.APPLICATION_RECEIVED]
    assert outbox(app) == []
    assert queue.pending_count() == 2  # one letter per board member

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.free_port()}"  # nobody listens
    queue.execute(queue.dequeue())
    assert outbox(app) == []
    retried = queue.scheduled()
    assert len(retried) == 1 and retried[0].retries == jobs.MAIL_RETRIES - 1

    app.config["SMTP_URL"] = ""  # the outbox again: the remaining letter goes out
    queue.execute(queue.dequeue())
    assert len(outbox(app)) == 1
