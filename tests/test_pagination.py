"""Lists that grow without bound come a page at a time: the client's dashboard (by state, with
counts), the waiting lists on it, a member's bids and the board's members; a bad page or state
is a clear 400."""

import re
from datetime import timedelta

import pytest
from conftest import login_client

from coop.models import Bid, Delivery, TaskState, utcnow


def task_links(page: str) -> list[str]:
    return re.findall(r'href="/tasks/\d+">(T-[^<]+)</a>', page)


def test_the_client_dashboard_shows_a_page_of_tasks_with_counts(app, make_client_user,
                                                                make_member, make_task):
    client = make_client_user()
    for n in range(23):
        make_task(client=client, title=f"T-open-{n:02}")
    for n in range(2):
        make_task(client=client, title=f"T-done-{n}", state=TaskState.COMPLETED,
                  member=make_member())
    web = login_client(app, client)
    first = web.get("/client").get_data(as_text=True)
    assert task_links(first) == ["T-done-1", "T-done-0"] + [f"T-open-{n:02}" for n in
                                                             range(22, 4, -1)]
    assert "<small>(25)</small>" in first and "<small>(23)</small>" in first
    assert 'href="/client?page=2"' in first
    second = web.get("/client?page=2").get_data(as_text=True)
    assert task_links(second) == [f"T-open-{n:02}" for n in range(4, -1, -1)]
    assert "page=3" not in second
    completed = web.get("/client?state=completed").get_data(as_text=True)
    assert task_links(completed) == ["T-done-1", "T-done-0"]
    assert "Older" not in completed


@pytest.mark.parametrize("query", ["state=nonsense", "page=0", "page=abc", "page=-1"])
def test_a_bad_state_or_page_is_a_clear_400(app, make_client_user, query):
    response = login_client(app, make_client_user()).get(f"/client?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "no such task state" in page or "page must be a whole number" in page


def test_the_waiting_lists_show_ten_and_link_to_the_rest(app, make_client_user, make_member,
                                                        make_task):
    client = make_client_user()
    for n in range(12):
        member = make_member()
        task = make_task(client=client, title=f"T-delivered-{n:02}", state=TaskState.DELIVERED,
                         member=member, assigned_at=utcnow())
        Delivery.create(task=task, member=member, attempt=1,
                        submitted_at=utcnow() - timedelta(minutes=60 - n))
    page = login_client(app, client).get("/client").get_data(as_text=True)
    waiting = page.split("Deliveries waiting for your review")[1].split("<h2>")[0]
    assert task_links(waiting) == [f"T-delivered-{n:02}" for n in range(10)]  # oldest first
    assert 'href="/client?state=delivered"' in waiting


def test_my_bids_come_a_page_at_a_time(app, make_member, make_task):
    member = make_member()
    for n in range(22):
        task = make_task(title=f"T-bid-{n:02}", pricing="bids", budget_cents=2000,
                         bidding_deadline=utcnow() + timedelta(days=1))
        Bid.create(task=task, member=member, amount_cents=1500, eta_hours=3,
                   updated_at=utcnow() + timedelta(seconds=n))
    web = login_client(app, member)
    first = web.get("/my-bids").get_data(as_text=True)
    assert task_links(first) == [f"T-bid-{n:02}" for n in range(21, 1, -1)]
    assert 'href="/my-bids?page=2"' in first
    assert task_links(web.get("/my-bids?page=2").get_data(as_text=True)) == ["T-bid-01",
                                                                            "T-bid-00"]
    assert web.get("/my-bids?page=x").status_code == 400


def test_the_board_members_come_fifty_at_a_time(app, make_member, make_board):
    board = make_board(name="Aaa Board")
    for n in range(55):
        make_member(name=f"Member {n:02}")
    web = login_client(app, board)
    first = web.get("/board/members").get_data(as_text=True)
    assert first.count('id="member-') == 50
    assert 'href="/board/members?page=2"' in first
    second = web.get("/board/members?page=2").get_data(as_text=True)
    assert second.count('id="member-') == 6
    assert "Member 54" in second and "Member 54" not in first


def test_the_boards_list_of_clients_reviews_comes_a_page_at_a_time(
    app, make_client_user, make_member, make_task, make_board, monkeypatch
):
    from coop.board import operations as board_operations

    monkeypatch.setattr(board_operations, "CLIENTS_PER_PAGE", 2)
    member = make_member()
    # Five clients who rejected 4, 3, 2, 1 and 0 of 4 reviewed deliveries; one who never reviewed.
    clients = [make_client_user(name=f"Client {n}") for n in range(5)]
    for client, rejected in zip(clients, (4, 3, 2, 1, 0), strict=True):
        for n in range(4):
            task = make_task(client=client, state=TaskState.COMPLETED, member=member)
            Delivery.create(task=task, member=member, attempt=1,
                            state="rejected" if n < rejected else "accepted",
                            rejection_category="wrong" if n < rejected else None)
    silent = make_client_user(name="Silent client")
    web = login_client(app, make_board())

    def listed(page: str) -> list[int]:
        return [int(i) for i in re.findall(r'<tr id="client-(\d+)">', page)]

    pages = [web.get("/board/members").get_data(as_text=True)]
    assert 'href="/board/members?clients_page=2#clients"' in pages[0]
    for n in (2, 3):
        pages.append(web.get(f"/board/members?clients_page={n}").get_data(as_text=True))
    assert [listed(p) for p in pages] == [[clients[0].id, clients[1].id],
                                          [clients[2].id, clients[3].id], [clients[4].id]]
    assert "clients_page=4" not in pages[2] and 'clients_page=2#clients">' in pages[2]
    assert silent.name not in "".join(pages)
    # The members' pager keeps the clients' page, and the other way round.
    both = web.get("/board/members?page=2&clients_page=2").get_data(as_text=True)
    assert 'href="/board/members?page=1&amp;clients_page=2">' in both
    assert 'href="/board/members?page=2&amp;clients_page=1#clients">' in both
    assert web.get("/board/members?clients_page=x").status_code == 400
    empty = web.get("/board/members?clients_page=9").get_data(as_text=True)
    assert listed(empty) == [] and "No client on this page." in empty
