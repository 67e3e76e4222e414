"""The public home, the members' task board (only open tasks; filters, sorts, pages; sensitive
tasks hidden from members who did not opt in), who may see a task page and its attachments,
the deliveries panel data, and the client's dashboard."""

import io
from datetime import timedelta

import pytest
from conftest import login_client

from coop.delivery import operations as delivery_ops
from coop.market import operations as ops
from coop.models import (
    Bid,
    Delivery,
    MemberStatus,
    Parameter,
    Task,
    TaskAttachment,
    TaskState,
    utcnow,
)


def status(web, url: str) -> int:
    """GET url and return the status, closing the response (downloads hold a file open)."""
    with web.get(url) as response:
        return response.status_code


def titles(response) -> list[str]:
    """The task titles on a board page, in order."""
    page = response.get_data(as_text=True)
    return [line.split("<")[0] for line in page.split('">')[1:] if line.startswith("T-")]


def test_home_states_the_rules_and_counts(app, client, make_task):
    Parameter.create(key="pay_floor_cents_per_hour", value=1350)
    make_task(category="transcription")
    make_task(category="transcription")
    make_task(category="moderation", state=TaskState.COMPLETED)
    page = client.get("/").get_data(as_text=True)
    assert "€13.50 per hour" in page
    assert "8.00% of each price" in page
    assert "At most 3 active tasks" in page and "40 hours" in page and "120 minutes" in page
    assert "72 hours" in page and "states its reason" in page
    assert "<td>Transcription</td><td>2</td>" in page
    assert "<td>Content moderation</td><td>0</td>" in page


def test_board_lists_only_open_tasks(app, make_member, make_task):
    make_task(title="T-open")
    make_task(title="T-taken", state=TaskState.ASSIGNED, member=make_member())
    make_task(title="T-cancelled", state=TaskState.CANCELLED)
    response = login_client(app, make_member()).get("/tasks")
    assert response.status_code == 200
    assert titles(response) == ["T-open"]


def test_board_filters_and_sorts(app, make_member, make_task):
    now = utcnow()
    make_task(title="T-cheap", category="transcription", price_cents=600,
              deadline=now + timedelta(days=1))
    make_task(title="T-rich", category="transcription", price_cents=3000,
              deadline=now + timedelta(days=5))
    bids = make_task(title="T-bids", category="transcription", pricing="bids",
                     budget_cents=2000, pay_per_hour_cents=4000, deadline=now + timedelta(days=2),
                     bidding_deadline=now + timedelta(days=1))
    Task.update(price_cents=None).where(Task.id == bids.id).execute()
    make_task(title="T-other", category="moderation", price_cents=1000,
              deadline=now + timedelta(days=3))
    web = login_client(app, make_member())
    # Pay per hour: €60, €40 (a bid task's budget), €20, €12.
    assert titles(web.get("/tasks")) == ["T-rich", "T-bids", "T-other", "T-cheap"]
    assert titles(web.get("/tasks?category=transcription&pricing=fixed")) == [
        "T-rich", "T-cheap",
    ]
    assert titles(web.get("/tasks?sort=deadline")) == ["T-cheap", "T-bids", "T-other", "T-rich"]
    assert titles(web.get("/tasks?sort=newest")) == ["T-other", "T-bids", "T-rich", "T-cheap"]
    assert titles(web.get("/tasks?pricing=bids")) == ["T-bids"]


def test_board_hides_sensitive_tasks_unless_opted_in(app, make_member, make_task):
    make_task(title="T-plain")
    make_task(title="T-gore", sensitive=True, content_note="Graphic violence")
    plain = login_client(app, make_member())
    response = plain.get("/tasks?sensitive=yes")
    assert titles(response) == []
    assert "Graphic violence" not in response.get_data(as_text=True)
    assert "you can accept them in your settings" in response.get_data(as_text=True)
    brave = login_client(app, make_member(sensitive_opt_in=True))
    assert titles(brave.get("/tasks")) == ["T-gore", "T-plain"]  # same pay: newest first
    assert titles(brave.get("/tasks?sensitive=yes")) == ["T-gore"]
    assert titles(brave.get("/tasks?sensitive=no")) == ["T-plain"]
    assert "Graphic violence" in brave.get("/tasks").get_data(as_text=True)


def test_board_pages(app, make_member, make_task):
    app.config["TASKS_PER_PAGE"] = 2
    for n in range(5):
        make_task(title=f"T-{n}", price_cents=1000 + n * 100)
    web = login_client(app, make_member())
    assert titles(web.get("/tasks")) == ["T-4", "T-3"]
    page3 = web.get("/tasks?page=3")
    assert titles(page3) == ["T-0"]
    assert "Page 3 of 3" in page3.get_data(as_text=True)
    assert titles(web.get("/tasks?page=9")) == []


def test_board_counts_at_most_the_cap(app, make_member, make_task, monkeypatch):
    monkeypatch.setattr(ops, "COUNT_CAP", 3)
    app.config["TASKS_PER_PAGE"] = 2
    for n in range(6):
        make_task(title=f"T-{n}")
    member = make_member()
    result = ops.board_page(member, ops.BoardFilters(), 1, 2)
    assert (result.total, result.more_pages, result.pages) == (3, True, 2)
    result = ops.board_page(member, ops.BoardFilters(), 2, 2)
    assert result.pages == 3  # a page past the counted ones is offered while tasks remain
    page = login_client(app, member).get("/tasks").get_data(as_text=True)
    assert "Page 1 of more than 2" in page


def test_board_counts_only_a_few_pages_ahead(app, make_member, make_task, monkeypatch):
    monkeypatch.setattr(ops, "PAGES_AHEAD", 2)
    for n in range(7):
        make_task(title=f"T-{n}")
    member = make_member()
    first = ops.board_page(member, ops.BoardFilters(), 1, 2)
    assert (first.total, first.more_pages, first.pages) == (4, True, 2)
    third = ops.board_page(member, ops.BoardFilters(), 3, 2)
    assert (third.total, third.more_pages, third.pages) == (7, False, 4)


@pytest.mark.parametrize(
    "query", ["category=mining", "sort=price", "page=0", "page=abc", "sensitive=maybe"]
)
def test_board_refuses_bad_filters(app, make_member, query):
    assert login_client(app, make_member()).get(f"/tasks?{query}").status_code == 400


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("client", 403), ("applicant", 403), ("member", 200), ("board", 200)],
)
def test_board_is_for_members(app, make_member, make_client_user, make_board, who, expected):
    user = {
        "anonymous": lambda: None,
        "client": make_client_user,
        "applicant": lambda: make_member(member_status=MemberStatus.APPLICANT),
        "member": make_member,
        "board": make_board,
    }[who]()
    assert login_client(app, user).get("/tasks").status_code == expected


@pytest.fixture
def people(make_member, make_client_user, make_board):
    return {
        "owner": make_client_user(),
        "other_client": make_client_user(),
        "holder": make_member(),
        "bidder": make_member(),
        "former": make_member(),
        "stranger": make_member(),
        "applicant": make_member(member_status=MemberStatus.APPLICANT),
        "board": make_board(),
    }


def test_task_page_visibility(app, people, make_task):
    open_task = make_task(client=people["owner"], title="T-visible")
    assigned = make_task(client=people["owner"])
    ops.claim_task(people["former"], assigned.id)
    ops.release_task(people["former"], assigned.id)
    ops.claim_task(people["holder"], assigned.id)
    Bid.create(task=assigned, member=people["bidder"], amount_cents=900, eta_hours=2)
    expected_open = {"owner": 200, "other_client": 404, "holder": 200, "bidder": 200,
                     "former": 200, "stranger": 200, "applicant": 404, "board": 200}
    expected_assigned = dict(expected_open, stranger=404)
    for name, user in people.items():
        web = login_client(app, user)
        assert web.get(f"/tasks/{open_task.id}").status_code == expected_open[name], name
        assert web.get(f"/tasks/{assigned.id}").status_code == expected_assigned[name], name
    assert login_client(app, None).get(f"/tasks/{open_task.id}").status_code == 302
    assert login_client(app, people["owner"]).get("/tasks/999999").status_code == 404


def test_task_page_escapes_text_and_shows_actions(app, make_member, make_task):
    task = make_task(title="<script>x</script>", instructions="Use <b>bold</b>")
    page = login_client(app, make_member()).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "Use &lt;b&gt;bold&lt;/b&gt;" in page
    assert f'action="/tasks/{task.id}/claim"' in page
    owner_page = login_client(app, task.client).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'href="/tasks/{task.id}/cancel"' in owner_page
    assert f'action="/tasks/{task.id}/claim"' not in owner_page


def test_sensitive_task_content_hidden_from_members_who_did_not_opt_in(
    app, make_member, make_task, tmp_path
):
    task = make_task(sensitive=True, content_note="Self-harm", description="SECRET-DESC")
    att = TaskAttachment.create(task=task, filename="a.txt", sha256="0" * 64, size=1)
    page = login_client(app, make_member()).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Self-harm" in page and "SECRET-DESC" not in page
    url = f"/tasks/{task.id}/attachments/{att.id}"
    assert status(login_client(app, make_member()), url) == 404
    opted = login_client(app, make_member(sensitive_opt_in=True))
    assert "SECRET-DESC" in opted.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_attachment_download_follows_task_visibility(app, make_client_user, make_member):
    owner = make_client_user()
    web = login_client(app, owner)
    data = {
        "title": "Type 20 receipts", "description": "Scans attached.", "instructions": "",
        "category": "data_entry", "estimated_minutes": "30", "pricing": "fixed",
        "price": "10", "deadline": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "attachments": [(io.BytesIO(b"receipt scans"), "receipts.zip")],
    }
    assert web.post("/tasks/new", data=data, content_type="multipart/form-data").status_code == 302
    task, att = Task.get(), TaskAttachment.get()
    url = f"/tasks/{task.id}/attachments/{att.id}"
    with web.get(url) as response:
        assert response.status_code == 200 and response.data == b"receipt scans"
        assert "receipts.zip" in response.headers["Content-Disposition"]
    assert status(login_client(app, make_member()), url) == 200
    assert status(login_client(app, make_client_user()), url) == 404
    assert status(web, f"/tasks/{task.id}/attachments/{att.id + 1}") == 404
    ops.claim_task(make_member(), task.id)
    assert status(login_client(app, make_member()), url) == 404


def test_deliveries_only_for_client_member_and_board(app, people, make_task):
    task = make_task(client=people["owner"], state=TaskState.DELIVERED, member=people["holder"],
                     assigned_at=utcnow())
    Delivery.create(task=task, member=people["holder"], attempt=2)
    Delivery.create(task=task, member=people["holder"], attempt=1)
    Bid.create(task=task, member=people["bidder"], amount_cents=900, eta_hours=2)
    for name in ("owner", "holder", "board"):
        assert [d.attempt for d in delivery_ops.deliveries_for(people[name], task)] == [1, 2]
    assert delivery_ops.deliveries_for(people["bidder"], task) == []


def test_client_dashboard(app, make_client_user, make_member, make_task):
    owner = make_client_user()
    make_task(client=owner, title="T-waiting")
    delivered = make_task(client=owner, title="T-delivered", state=TaskState.DELIVERED,
                          member=make_member(), assigned_at=utcnow())
    Delivery.create(task=delivered, member=delivered.member, attempt=1)
    bid_task = make_task(client=owner, title="T-bidding", pricing="bids", budget_cents=2000,
                         bidding_deadline=utcnow() + timedelta(days=1))
    Bid.create(task=bid_task, member=make_member(), amount_cents=1500, eta_hours=3)
    Bid.create(task=bid_task, member=make_member(), amount_cents=1400, eta_hours=3)
    make_task(title="T-not-mine")
    page = login_client(app, owner).get("/client").get_data(as_text=True)
    assert "T-waiting" in page and "T-not-mine" not in page
    assert "2 live bids" in page
    assert f'href="/tasks/{delivered.id}">T-delivered</a> — attempt 1' in page
    assert login_client(app, make_member()).get("/client").status_code == 403


def board_cells(page: str, css: str) -> list[str]:
    """The text of the board's cells of one class, in order."""
    return [cell.split("</td>")[0] for cell in page.split(f'<td class="{css}">')[1:]]


def test_members_see_what_they_earn_after_the_margin(app, make_member, make_task):
    """The board, the task page and "My bids" show net pay and net €/h; a task open to bids
    shows at most its budget's net until the member bids, then the net of their own bid."""
    fixed = make_task(title="T-fixed", price_cents=1500, estimated_minutes=60)
    now = utcnow()
    bids = make_task(title="T-bids", pricing="bids", budget_cents=2000, estimated_minutes=30,
                     pay_per_hour_cents=4000, bidding_deadline=now + timedelta(days=1))
    Task.update(price_cents=None).where(Task.id == bids.id).execute()
    member = make_member()
    web = login_client(app, member)
    page = web.get("/tasks").get_data(as_text=True)
    # 15 € less the 8 % margin: 13.80 € for an hour; the budget nets at most 18.40 € (36.80 €/h).
    assert board_cells(page, "net") == ["up to €18.40", "€13.80"]
    assert board_cells(page, "net-hour") == ["up to €36.80", "€13.80"]
    assert "€15.00" in page  # the price the client pays is still shown
    ops.place_bid(member, bids.id, amount_cents=1000, eta_hours=4)
    page = web.get("/tasks").get_data(as_text=True)
    assert board_cells(page, "net") == ["€9.20 on your bid", "€13.80"]
    assert board_cells(page, "net-hour") == ["€18.40 on your bid", "€13.80"]
    task_page = web.get(f"/tasks/{bids.id}").get_data(as_text=True)
    assert '<td id="net-per-hour">€18.40 on your bid</td>' in task_page
    assert '<td id="net-per-hour">€13.80</td>' in web.get(f"/tasks/{fixed.id}").get_data(
        as_text=True)
    other = login_client(app, make_member()).get("/tasks").get_data(as_text=True)
    assert board_cells(other, "net") == ["up to €18.40", "€13.80"]  # not someone else's bid
    my_bids = web.get("/my-bids").get_data(as_text=True)
    assert "<td>€9.20</td>" in my_bids and "<td>€18.40</td>" in my_bids
