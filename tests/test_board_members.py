"""The members page and the dashboard show real aggregates (tasks completed, earnings this
month and in total, tasks by state, open disputes) in one query without N+1; board pages are
for the board only: others get 403, anonymous visitors are sent to sign in."""

from datetime import timedelta

import pytest
from conftest import login_client

from coop import calendar
from coop.board.operations import dashboard_figures, members_overview
from coop.db import database
from coop.models import (
    Delivery,
    Dispute,
    DisputeState,
    Earning,
    Event,
    MemberStatus,
    Parameter,
    TaskState,
    User,
    utcnow,
)


@pytest.fixture
def month_start(app):
    with app.app_context():
        return calendar.month(utcnow()).start


def earn(make_task, member, earnings, when):
    """A completed task of member, paid earnings (cents), credited at when."""
    task = make_task(state=TaskState.COMPLETED, member=member, completed_at=when)
    return Earning.create(
        member=member,
        task=task,
        price_cents=earnings + 100,
        earnings_cents=earnings,
        margin_cents=100,
        created_at=when,
    )


@pytest.fixture
def crew(make_board, make_member, make_task, month_start):
    board = make_board(name="Bea Board", capital_cents=50_000)
    alice = make_member(name="Alice Worker", capital_cents=12_345, sensitive_opt_in=True)
    bob = make_member(name="Bob Worker")
    earn(make_task, alice, 1_000, utcnow())
    earn(make_task, alice, 2_500, utcnow())
    earn(make_task, alice, 700, month_start - timedelta(days=3))
    earn(make_task, bob, 400, month_start - timedelta(days=40))
    return board, alice, bob


def test_members_overview_aggregates(app, crew, month_start):
    board, alice, bob = crew
    with app.test_request_context():
        rows = {row.id: row for row in members_overview(board, month_start)}
    assert set(rows) == {board.id, alice.id, bob.id}
    a = rows[alice.id]
    assert (a.tasks_completed, a.earnings_month_cents, a.earnings_total_cents) == (3, 3500, 4200)
    assert (a.capital_cents, a.sensitive_opt_in, a.is_board) == (12_345, True, False)
    b = rows[bob.id]
    assert (b.tasks_completed, b.earnings_month_cents, b.earnings_total_cents) == (1, 0, 400)
    assert rows[board.id].is_board and rows[board.id].tasks_completed == 0


def test_members_overview_is_one_query(
    app, crew, month_start, make_member, make_task, monkeypatch
):
    for _ in range(5):
        earn(make_task, make_member(), 100, utcnow())
    executed = []
    real = database.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        executed.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", counting)
    with app.test_request_context():
        rows = members_overview(crew[0], month_start)
    assert len(rows) == 8
    assert len(executed) == 1


def test_members_page_shows_the_figures(app, crew):
    board, alice, _ = crew
    page = login_client(app, board).get("/board/members").get_data(as_text=True)
    row = page.split(f'id="member-{alice.id}"')[1].split("</tr>")[0]
    for text in ["Alice Worker", alice.pseudonym, alice.email, "€123.45", "€35.00", "€42.00"]:
        assert text in row
    assert "<td>3</td>" in row


def test_dashboard_counts(app, crew, make_member, make_task, make_client_user):
    board, alice, _ = crew
    make_member(member_status=MemberStatus.APPLICANT)
    make_task(state=TaskState.OPEN)
    make_task(state=TaskState.OPEN)
    disputed = make_task(state=TaskState.DISPUTED, member=alice)
    delivery = Delivery.create(task=disputed, member=alice, attempt=1, state="rejected")
    Dispute.create(delivery=delivery, task=disputed, member=alice, reason="It was right.")
    Dispute.create(
        delivery=delivery, task=disputed, member=alice, reason="Old.", state=DisputeState.DISMISSED
    )
    with app.test_request_context():
        figures = dashboard_figures(board, calendar.month(utcnow()).start)
    assert figures.pending_applications == 1
    assert figures.open_disputes == 1
    assert figures.tasks_by_state["open"] == 2
    assert figures.tasks_by_state["completed"] == 4
    assert figures.tasks_by_state["cancelled"] == 0
    assert (figures.completed_this_month, figures.earnings_month_cents) == (2, 3500)
    assert figures.margin_month_cents == 200
    page = login_client(app, board).get("/board/").get_data(as_text=True)
    assert 'id="open-disputes">1<' in page
    assert 'id="tasks-open">2<' in page
    assert 'id="earnings-month">€35.00<' in page
    assert 'href="/board/disputes"' in page


ROUTES = [
    ("get", "/board/"),
    ("get", "/board/applications"),
    ("post", "/board/applications/1/admit"),
    ("post", "/board/applications/1/decline"),
    ("get", "/board/parameters"),
    ("post", "/board/parameters"),
    ("get", "/board/members"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_login_client(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["client", "member", "applicant"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_the_board_gets_in(app, make_client_user, make_member, role, method, path):
    user = {
        "client": make_client_user,
        "member": make_member,
        "applicant": lambda: make_member(member_status=MemberStatus.APPLICANT),
    }[role]()
    web = login_client(app, user)
    response = getattr(web, method)(path, data={"reason": "x", "max_attempts": "4"})
    assert response.status_code == 403
    assert User.get_by_id(user.id).member_status == user.member_status
    assert not Event.select().exists() and not Parameter.select().exists()


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[0] == "get"])
def test_the_board_gets_in(app, make_board, method, path):
    assert login_client(app, make_board()).get(path).status_code == 200
