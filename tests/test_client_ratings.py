"""Members rate the clients they worked for: only the member who completed a task, once per
task, 1 to 5 stars and a short comment; members see the client's name on task pages; the board
reads every rating; clients and members see only the average and count, and only from three
ratings on, so no single member's rating can be told."""

import pytest
from conftest import login_client

from coop.errors import Conflict, DomainError, NotFound
from coop.models import ClientRating, TaskState
from coop.ratings import operations, queries


@pytest.fixture
def done(make_client_user, make_member, make_task):
    """A client, and a task a member completed for them."""
    client = make_client_user(name="Acme Transcripts")
    member = make_member()
    task = make_task(client=client, state=TaskState.COMPLETED, member=member, title="T-done")
    return client, member, task


def _rate(app, member, task, **form):
    return login_client(app, member).post(f"/tasks/{task.id}/rate-client", data=form)


def test_members_see_the_clients_name_on_task_pages(app, make_client_user, make_member,
                                                   make_task):
    task = make_task(client=make_client_user(name="Acme Transcripts"))
    page = login_client(app, make_member()).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert '<td id="client">Acme Transcripts' in page


def test_the_member_who_completed_the_task_rates_the_client_once(app, done):
    client, member, task = done
    page = login_client(app, member).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="rate-client"' in page
    response = _rate(app, member, task, stars="4", comment="  Clear instructions.  ")
    assert response.status_code == 302
    (rating,) = ClientRating.select()
    assert (rating.stars, rating.comment, rating.client_id, rating.member_id) == (
        4, "Clear instructions.", client.id, member.id
    )
    page = login_client(app, member).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "You rated this client 4 / 5 for this task." in page
    assert 'id="rate-client"' not in page
    again = _rate(app, member, task, stars="1")
    assert again.status_code == 409
    assert "You already rated the client for this task." in again.get_data(as_text=True)
    assert [r.stars for r in ClientRating.select()] == [4]


@pytest.mark.parametrize("state", [TaskState.ASSIGNED, TaskState.DELIVERED, TaskState.DISPUTED])
def test_no_rating_before_the_task_is_completed(app, make_member, make_task, state):
    member = make_member()
    task = make_task(state=state, member=member)
    page = login_client(app, member).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="rate-client"' not in page
    response = _rate(app, member, task, stars="5")
    assert response.status_code == 400
    assert "once the task is completed" in response.get_data(as_text=True)
    assert ClientRating.select().count() == 0


def test_only_the_member_who_did_the_task_may_rate(app, done, make_member, make_board):
    _client, _member, task = done
    for someone in (make_member(), make_board()):
        assert _rate(app, someone, task, stars="5").status_code == 404
        page = login_client(app, someone).get(f"/tasks/{task.id}")
        assert 'id="rate-client"' not in page.get_data(as_text=True)
    with pytest.raises(NotFound):
        operations.rate_client(make_member(), task, 5)
    assert ClientRating.select().count() == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Choose from 1 to 5 stars."),
        ({"stars": "0"}, "Not a valid choice"),
        ({"stars": "6"}, "Not a valid choice"),
        ({"stars": "five"}, "Invalid Choice"),
        ({"stars": "3", "comment": "x" * 301}, "longer than 300 characters"),
    ],
)
def test_bad_ratings_are_refused_with_a_message(app, done, form, message):
    _client, member, task = done
    response = _rate(app, member, task, **form)
    assert response.status_code == 400
    assert message.lower() in response.get_data(as_text=True).lower()
    assert ClientRating.select().count() == 0


def test_the_operation_checks_its_own_rules(app, done):
    _client, member, task = done
    with pytest.raises(DomainError, match="1 to 5"):
        operations.rate_client(member, task, 9)
    with pytest.raises(DomainError, match="300"):
        operations.rate_client(member, task, 3, "y" * 301)
    operations.rate_client(member, task, 3)
    with pytest.raises(Conflict):
        operations.rate_client(member, task, 3)


def _ratings(client, make_member, make_task, stars):
    for n in stars:
        member = make_member()
        task = make_task(client=client, state=TaskState.COMPLETED, member=member)
        operations.rate_client(member, task, n, f"comment {n}")


def test_clients_and_members_see_the_average_only_from_three_ratings(
    app, make_client_user, make_member, make_task, make_board
):
    client = make_client_user()
    _ratings(client, make_member, make_task, [5, 2])
    open_task = make_task(client=client)
    dashboard = login_client(app, client).get("/client").get_data(as_text=True)
    assert "once at least 3 ratings exist" in dashboard
    assert "comment" not in dashboard and "/ 5" not in dashboard
    assert queries.summary(client.id) == queries.Summary(2, None)
    member_page = login_client(app, make_member()).get(f"/tasks/{open_task.id}")
    assert "Not rated yet by enough members (at least 3)." in member_page.get_data(as_text=True)

    _ratings(client, make_member, make_task, [4])
    dashboard = login_client(app, client).get("/client").get_data(as_text=True)
    assert "rate you 3.7 / 5 on average (3 ratings)" in dashboard
    assert "comment" not in dashboard  # never a comment, never a member
    member_page = login_client(app, make_member()).get(f"/tasks/{open_task.id}")
    assert "Rated 3.7 / 5 by 3 members who worked for them." in member_page.get_data(as_text=True)


def test_the_board_reads_every_rating(app, make_client_user, make_member, make_task, make_board):
    client = make_client_user(name="Acme Transcripts")
    _ratings(client, make_member, make_task, [2])
    make_client_user(name="Unrated Ltd")
    board = login_client(app, make_board())
    listing = board.get("/board/clients").get_data(as_text=True)
    assert "Acme Transcripts" in listing and "Unrated Ltd" in listing
    page = board.get(f"/board/clients/{client.id}").get_data(as_text=True)
    assert "Average 2.0 / 5 from 1 rating." in page and "comment 2" in page
    assert board.get(f"/board/clients/{make_member().id}").status_code == 404


def test_the_average_is_localised(app, make_client_user, make_member, make_task):
    client = make_client_user()
    _ratings(client, make_member, make_task, [5, 4, 4])
    french = login_client(app, client).get("/client", headers={"Accept-Language": "fr"})
    assert "4,3" in french.get_data(as_text=True)
