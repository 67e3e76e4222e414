"""After the board closes a month through its web form, every statements page and every link
on it answers: the index, the summary, each member's statement and the zip for the board, and
for a member their own statements and the closed month's board summary (another member's
statement is a 404, the board's zip 403), and the fiscal years' pages.
Every other page also renders in that populated state (no BuildError, no 500)."""

import io
import re
import zipfile

import pytest
from conftest import login_client
from test_statements_close import MONTH, example_month, statements_app  # noqa: F401

from coop.statements.models import Period, Statement

LINK = re.compile(rb'href="(/statements/[^"]+)"')


@pytest.fixture
def closed(statements_app, example_month, make_board):  # noqa: F811 - imported fixtures
    """The worked example's month, closed by a board member pressing the close button."""
    board = make_board()
    response = login_client(statements_app, board).post(f"/statements/{MONTH}/close",
                                                           data={"confirmed": "1"})
    assert response.status_code == 302
    assert Period.get().month == MONTH
    return {"board": board, **example_month}


def _links(client, url="/statements/"):
    page = client.get(url)
    assert page.status_code == 200, page.data[-500:]
    return sorted({link.decode().replace("&amp;", "&") for link in LINK.findall(page.data)})


def test_board_opens_every_statement_link(statements_app, closed):  # noqa: F811
    board = login_client(statements_app, closed["board"])
    links = _links(board)
    for who in ("alice", "bob", "chloe"):
        assert f"/statements/{MONTH}/members/{closed[who].id}.pdf" in links
    assert f"/statements/{MONTH}/summary.pdf" in links and f"/statements/{MONTH}/all.zip" in links
    for link in links:
        response = board.get(link)
        assert response.status_code == 200, link
        if ".pdf" in link or ".zip" in link:
            assert response.data.startswith((b"%PDF", b"PK")), link
        elif link.startswith("/statements/years/"):  # a fiscal year's page
            assert b"Fiscal year" in response.data, link
        else:  # the next month's close confirmation, which changes nothing
            assert link.endswith("/close") and b"This cannot be undone." in response.data, link
    assert Period.select().count() == 1
    archive = zipfile.ZipFile(io.BytesIO(board.get(f"/statements/{MONTH}/all.zip").data))
    assert len(archive.namelist()) == Statement.select().count() + 1


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_member_opens_only_their_own(statements_app, closed, who):  # noqa: F811
    member = login_client(statements_app, closed[who])
    links = _links(member)
    own = f"/statements/{MONTH}/members/{closed[who].id}.pdf"
    assert own in links
    summary = f"/statements/{MONTH}/summary.pdf"
    assert summary in links
    for link in links:
        assert (f"/members/{closed[who].id}.pdf" in link or link == summary
                or re.fullmatch(r"/statements/years/\d{4}", link)), link
        assert member.get(link).status_code == 200, link
    other = closed["bob" if who == "alice" else "alice"]
    assert member.get(f"/statements/{MONTH}/members/{other.id}.pdf").status_code == 404
    assert member.get(f"/statements/{MONTH}/all.zip").status_code == 403


PAGES = {
    "board": ["/", "/board/", "/board/applications", "/board/parameters", "/board/members",
              "/board/disputes", "/ledger", "/verify", "/settings", "/settings/tokens",
              "/statements/", "/tasks", "/my-work", "/my-bids"],
    "alice": ["/", "/tasks", "/my-work", "/my-bids", "/statements/", "/ledger", "/settings"],
    "client": ["/", "/client", "/tasks/new", "/settings", "/settings/tokens", "/verify"],
}


@pytest.mark.parametrize("who", sorted(PAGES))
def test_every_page_renders_after_a_close(statements_app, closed, who):  # noqa: F811
    tasks = list(closed["alice"].tasks)
    user = tasks[0].client if who == "client" else closed[who]
    client = login_client(statements_app, user)
    for url in PAGES[who]:
        assert client.get(url).status_code == 200, url
    for task in tasks:
        if who != "client" or task.client_id == user.id:
            assert client.get(f"/tasks/{task.id}").status_code == 200, task.id
