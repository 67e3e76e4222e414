"""Claims: the first claim wins; each limit (active tasks, weekly hours, sensitive opt-in and
daily sensitive minutes) refuses with a message naming the limit and its value; members release
what they hold; overdue tasks return to the board; non-members cannot claim."""

from datetime import timedelta

import pytest
from conftest import login_client

from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.market import operations as ops
from coop.models import Event, MemberStatus, Parameter, Task, TaskState, utcnow


def test_claim_assigns_and_records_the_award(app, make_member, make_task):
    member = make_member()
    task = make_task(price_cents=1000)
    claimed = ops.claim_task(member, task.id)
    assert claimed.state == TaskState.ASSIGNED
    assert claimed.member_id == member.id
    assert claimed.assigned_at is not None
    event = Event.get(Event.kind == "task.awarded")
    assert event.subject == f"task:{task.id}"
    assert event.payload == {
        "task": task.id, "member": member.pseudonym, "price_cents": 1000, "mode": "claim",
        "margin_bp": 800,
    }


def test_second_claim_conflicts(app, make_member, make_task):
    task = make_task()
    ops.claim_task(make_member(), task.id)
    with pytest.raises(Conflict, match="Someone else claimed this task first."):
        ops.claim_task(make_member(), task.id)


def test_claim_through_the_web(app, make_member, make_task):
    member = make_member()
    task = make_task()
    response = login_client(app, member).post(f"/tasks/{task.id}/claim")
    assert response.status_code == 302
    assert Task.get_by_id(task.id).member_id == member.id
    response = login_client(app, make_member()).post(f"/tasks/{task.id}/claim")
    assert response.status_code == 409
    assert "Someone else claimed this task first." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "who", ["client", "applicant", "declined", "anonymous"],
)
def test_non_members_cannot_claim(app, make_client_user, make_member, make_task, who):
    task = make_task()
    user = {
        "client": lambda: make_client_user(),
        "applicant": lambda: make_member(member_status=MemberStatus.APPLICANT),
        "declined": lambda: make_member(member_status=MemberStatus.DECLINED),
        "anonymous": lambda: None,
    }[who]()
    response = login_client(app, user).post(f"/tasks/{task.id}/claim")
    assert response.status_code == (302 if user is None else 403)
    assert Task.get_by_id(task.id).state == TaskState.OPEN
    if user is not None:
        with pytest.raises(Forbidden):
            ops.claim_task(user, task.id)


def test_claim_unknown_task_is_not_found(app, make_member):
    with pytest.raises(NotFound):
        ops.claim_task(make_member(), 424242)


def test_claim_refuses_bid_tasks_and_passed_deadlines(app, make_member, make_task):
    late = make_task(deadline=utcnow() - timedelta(minutes=1))
    with pytest.raises(DomainError, match="The delivery deadline has passed."):
        ops.claim_task(make_member(), late.id)
    bids = make_task(pricing="bids", budget_cents=1000)
    with pytest.raises(DomainError, match="place a bid"):
        ops.claim_task(make_member(), bids.id)


def test_active_tasks_limit(app, make_member, make_task):
    member = make_member()
    for _ in range(3):
        ops.claim_task(member, make_task().id)
    fourth = make_task()
    with pytest.raises(DomainError, match="The limit is 3 active tasks per member"):
        ops.claim_task(member, fourth.id)
    assert Task.get_by_id(fourth.id).state == TaskState.OPEN


def test_active_tasks_limit_follows_the_parameter(app, make_member, make_task):
    Parameter.create(key="max_active_tasks", value=1)
    member = make_member()
    ops.claim_task(member, make_task().id)
    with pytest.raises(DomainError, match="The limit is 1 active tasks per member"):
        ops.claim_task(member, make_task().id)


def test_completed_tasks_do_not_count_as_active(app, make_member, make_task):
    member = make_member()
    for _ in range(3):
        make_task(state=TaskState.COMPLETED, member=member, assigned_at=utcnow())
    ops.claim_task(member, make_task().id)


def test_tasks_waiting_for_review_or_the_board_do_not_count_as_active(app, make_member,
                                                                       make_task):
    """A silent client (72 h to review) or a slow dispute must not block the member's work."""
    Parameter.create(key="max_active_tasks", value=1)
    member = make_member()
    make_task(state=TaskState.DELIVERED, member=member, assigned_at=utcnow())
    make_task(state=TaskState.DISPUTED, member=member, assigned_at=utcnow())
    ops.claim_task(member, make_task().id)
    # A rejected task is being worked on again: it counts.
    other = make_member()
    make_task(state=TaskState.REJECTED, member=other, assigned_at=utcnow())
    with pytest.raises(DomainError, match="The limit is 1 active tasks per member"):
        ops.claim_task(other, make_task().id)


def test_weekly_hours_cap(app, make_member, make_task):
    Parameter.create(key="weekly_hours_cap", value=2)
    member = make_member()
    ops.claim_task(member, make_task(estimated_minutes=90, price_cents=5000).id)
    second = make_task(estimated_minutes=60, price_cents=5000)
    with pytest.raises(DomainError, match=r"The weekly cap is 2 h: you have taken 1.5 h"):
        ops.claim_task(member, second.id)
    ops.claim_task(member, make_task(estimated_minutes=30, price_cents=5000).id)


def test_weekly_hours_count_only_this_week(app, make_member, make_task):
    Parameter.create(key="weekly_hours_cap", value=1)
    member = make_member()
    make_task(
        state=TaskState.COMPLETED, member=member, estimated_minutes=60,
        assigned_at=utcnow() - timedelta(days=8),
    )
    ops.claim_task(member, make_task(estimated_minutes=60, price_cents=5000).id)


def test_sensitive_tasks_need_the_opt_in(app, make_member, make_task):
    task = make_task(sensitive=True, content_note="Gore")
    with pytest.raises(DomainError, match="sensitive content: only members who accept"):
        ops.claim_task(make_member(), task.id)
    ops.claim_task(make_member(sensitive_opt_in=True), task.id)


def test_sensitive_minutes_per_day(app, make_member, make_task):
    member = make_member(sensitive_opt_in=True)
    ops.claim_task(member, make_task(sensitive=True, estimated_minutes=90, price_cents=5000).id)
    second = make_task(sensitive=True, estimated_minutes=60, price_cents=5000)
    with pytest.raises(DomainError,
                       match=r"120 minutes a day \(Europe/Paris time\): you have taken 90"):
        ops.claim_task(member, second.id)
    # Tasks that are not sensitive do not count against that limit.
    ops.claim_task(member, make_task(estimated_minutes=60, price_cents=5000).id)


def test_limit_message_reaches_the_page(app, make_member, make_task):
    Parameter.create(key="max_active_tasks", value=1)
    member = make_member()
    ops.claim_task(member, make_task().id)
    task = make_task()
    response = login_client(app, member).post(f"/tasks/{task.id}/claim")
    assert response.status_code == 400
    assert "The limit is 1 active tasks per member" in response.get_data(as_text=True)


def test_release_puts_the_task_back(app, make_member, make_task):
    member = make_member()
    task = make_task()
    ops.claim_task(member, task.id)
    response = login_client(app, member).post(f"/tasks/{task.id}/release", data={"confirmed": "1"})
    assert response.status_code == 302
    task = Task.get_by_id(task.id)
    assert (task.state, task.member_id, task.assigned_at) == (TaskState.OPEN, None, None)
    ops.claim_task(make_member(), task.id)


def test_release_a_rejected_task(app, make_member, make_task):
    member = make_member()
    task = make_task(state=TaskState.REJECTED, member=member, assigned_at=utcnow())
    assert ops.release_task(member, task.id).state == TaskState.OPEN


def test_release_refused_for_others_and_delivered(app, make_member, make_task):
    member = make_member()
    task = make_task()
    ops.claim_task(member, task.id)
    assert login_client(app, make_member()).post(
        f"/tasks/{task.id}/release", data={"confirmed": "1"}).status_code == 404
    delivered = make_task(state=TaskState.DELIVERED, member=member, assigned_at=utcnow())
    with pytest.raises(DomainError, match="can be released"):
        ops.release_task(member, delivered.id)
    assert Task.get_by_id(task.id).member_id == member.id


def test_overdue_tasks_return_to_the_board(app, make_member, make_task):
    member = make_member()
    now = utcnow()
    overdue = make_task(
        state=TaskState.ASSIGNED, member=member, assigned_at=now - timedelta(days=2),
        deadline=now - timedelta(minutes=5),
    )
    on_time = make_task(state=TaskState.ASSIGNED, member=member, assigned_at=now)
    delivered = make_task(
        state=TaskState.DELIVERED, member=member, assigned_at=now - timedelta(days=2),
        deadline=now - timedelta(minutes=5),
    )
    assert ops.return_overdue_tasks(now) == 1
    assert Task.get_by_id(overdue.id).state == TaskState.OPEN
    assert Task.get_by_id(overdue.id).member_id is None
    assert Task.get_by_id(on_time.id).state == TaskState.ASSIGNED
    assert Task.get_by_id(delivered.id).state == TaskState.DELIVERED
    assert ops.return_overdue_tasks(now) == 0


def test_coop_tick_returns_overdue_tasks(app, make_member, make_task, runner):
    now = utcnow()
    task = make_task(
        state=TaskState.ASSIGNED, member=make_member(), assigned_at=now - timedelta(days=1),
        deadline=now - timedelta(minutes=1),
    )
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 overdue task(s) returned to the board." in result.output
    assert Task.get_by_id(task.id).state == TaskState.OPEN
