"""The statements pages: the board previews drafts, enters expenses, closes a finished month and
downloads every PDF and the zip; a member downloads only their own statements; clients and
strangers get nothing; bad months and bad forms never end in a 500 and change nothing."""

import hashlib
import io
import zipfile

import pytest
from conftest import login_client
from test_statements_close import (  # noqa: F401
    MONTH,
    example_month,
    pdftext,
    statements_app,
)

from coop import calendar
from coop.models import Event
from coop.statements import operations
from coop.statements.models import Expense, Period

CONFIRMED = {"confirmed": "1"}


def current():
    return operations.current_month()


@pytest.fixture
def web(statements_app):  # noqa: F811 - the imported fixture
    """The app with the statements routes (the fixture lives in test_statements_close)."""
    return statements_app


@pytest.fixture
def people(example_month, make_board, make_client_user, make_member):  # noqa: F811
    return {
        "board": make_board(),
        "alice": example_month["alice"],
        "bob": example_month["bob"],
        "outsider": make_member(),
        "client": make_client_user(),
        "anonymous": None,
    }


def test_board_previews_closes_and_downloads(web, people):  # noqa: F811
    board = login_client(web, people["board"])
    page = board.get("/statements/")
    assert page.status_code == 200
    assert f"/statements/{current()}/summary.pdf?draft=1".encode() in page.data
    # Older than the twelve months listed, but the month to close next: listed, closable; no
    # other month may close before it.
    assert f"/statements/{MONTH}/close".encode() in page.data
    assert page.data.count(b"/close\"") == 1
    previous = calendar.shift_month(current(), -1)
    assert board.post(f"/statements/{previous}/close", data=CONFIRMED).status_code == 400

    draft = board.get(f"/statements/{current()}/summary.pdf?draft=1")
    assert draft.status_code == 200 and draft.data.startswith(b"%PDF")
    assert board.get(f"/statements/{MONTH}/summary.pdf").status_code == 404  # not closed

    added = board.post(f"/statements/{MONTH}/expenses", data={"label": "Domain", "amount": "12"})
    assert added.status_code == 302
    closed = board.post(f"/statements/{MONTH}/close", data=CONFIRMED)
    assert closed.status_code == 302
    assert Period.get().totals_data["expenses_cents"] == 678 + 1200
    assert Event.select().where(Event.kind == "statement.issued").count() == 4

    summary = board.get(f"/statements/{MONTH}/summary.pdf")
    assert summary.status_code == 200 and summary.mimetype == "application/pdf"
    member = board.get(f"/statements/{MONTH}/members/{people['bob'].id}.pdf")
    assert member.status_code == 200 and member.data.startswith(b"%PDF")
    archive = board.get(f"/statements/{MONTH}/all.zip")
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert len(names) == 4 and f"{MONTH}-summary.pdf" in names

    again = board.post(f"/statements/{MONTH}/close", data=CONFIRMED)
    assert again.status_code == 409
    late = board.post(f"/statements/{MONTH}/expenses", data={"label": "Late", "amount": "5"})
    assert late.status_code == 409
    assert Expense.select().count() == 3


def test_a_month_in_progress_cannot_close(web, people):
    board = login_client(web, people["board"])
    assert board.post(f"/statements/{current()}/close", data=CONFIRMED).status_code == 400
    assert Period.select().count() == 0


def test_member_sees_only_their_own(web, people):
    operations.close_and_issue(people["board"], MONTH)
    bob, alice = people["bob"], people["alice"]
    client = login_client(web, bob)
    page = client.get("/statements/")
    assert page.status_code == 200 and MONTH.encode() in page.data
    assert b"/close" not in page.data
    assert client.get(f"/statements/{MONTH}/members/{bob.id}.pdf").status_code == 200
    assert client.get(f"/statements/{current()}/members/{bob.id}.pdf?draft=1").status_code == 200
    assert client.get(f"/statements/{MONTH}/members/{alice.id}.pdf").status_code == 404
    assert client.get(f"/statements/{current()}/members/{alice.id}.pdf?draft=1").status_code \
        == 404


@pytest.mark.parametrize("role,status", [("bob", 200), ("outsider", 200), ("board", 200),
                                         ("client", 403), ("anonymous", 302)])
def test_every_member_reads_the_summary_of_a_closed_month(web, people, role, status):
    """The coop's accounts are every member's, not only their own statement; members are
    listed by pseudonym, and a draft stays the board's working paper."""
    period = operations.close_and_issue(people["board"], MONTH)
    client = login_client(web, people[role])
    response = client.get(f"/statements/{MONTH}/summary.pdf")
    assert response.status_code == status
    if status != 200:
        return
    assert hashlib.sha256(response.data).hexdigest() == period.summary_sha256
    if role != "board":
        page = client.get("/statements/").data
        assert f"/statements/{MONTH}/summary.pdf".encode() in page
        assert client.get(f"/statements/{current()}/summary.pdf?draft=1").status_code == 404


def test_the_summary_names_members_by_pseudonym(web, people, tmp_path):
    operations.close_and_issue(people["board"], MONTH)
    pdf = login_client(web, people["bob"]).get(f"/statements/{MONTH}/summary.pdf").data
    text = pdftext(pdf, tmp_path)
    assert "w-alice" in text and "w-bob" in text and "w-chloe" in text
    assert "Alice" not in text.replace("w-alice", "")


BOARD_ROUTES = [
    ("get", "/statements/{month}/summary.pdf?draft=1"),
    ("get", "/statements/{month}/all.zip?draft=1"),
    ("post", "/statements/{month}/expenses"),
    ("post", "/statements/{month}/close"),
]


@pytest.mark.parametrize("method,route", BOARD_ROUTES)
@pytest.mark.parametrize("role,status", [("bob", 403), ("client", 403), ("anonymous", 302)])
def test_board_routes_refuse_others(web, people, method, route, role, status):
    if role == "bob" and "summary.pdf" in route:
        status = 404  # a member may read the summary, once the month is closed
    client = login_client(web, people[role])
    response = getattr(client, method)(route.format(month=MONTH), data={"label": "x",
                                                                       "amount": "1"})
    assert response.status_code == status
    assert Expense.select().count() == 2 and Period.select().count() == 0


@pytest.mark.parametrize("role,status", [("client", 403), ("anonymous", 302), ("outsider", 404)])
def test_member_statement_refuses_others(web, people, role, status):
    client = login_client(web, people[role])
    url = f"/statements/{current()}/members/{people['bob'].id}.pdf?draft=1"
    assert client.get(url).status_code == status


@pytest.mark.parametrize("month", ["2025-13", "abc", "2025-3", "1999-12", "9999-01", "2999-12"])
def test_bad_months_are_404(web, people, month):
    board = login_client(web, people["board"])
    for url in (f"/statements/{month}/summary.pdf?draft=1", f"/statements/{month}/all.zip",
                f"/statements/{month}/members/{people['bob'].id}.pdf?draft=1"):
        assert board.get(url).status_code == 404
    assert board.get(f"/statements/{month}/close").status_code == 404
    assert board.post(f"/statements/{month}/close").status_code == 404
    assert board.post(f"/statements/{month}/close", data=CONFIRMED).status_code == 404
    assert board.post(f"/statements/{month}/expenses",
                      data={"label": "x", "amount": "1"}).status_code == 404
    assert Expense.select().count() == 2


@pytest.mark.parametrize("data", [{"label": "", "amount": "5"}, {"label": "Rent", "amount": "-5"},
                                  {"label": "Rent", "amount": "lots"},
                                  {"label": "x" * 121, "amount": "5"},
                                  {"label": "Rent", "amount": "0"}])
def test_bad_expenses_come_back_with_errors(web, people, data):
    board = login_client(web, people["board"])
    response = board.post(f"/statements/{current()}/expenses", data=data)
    assert response.status_code == 400 and b'class="error"' in response.data
    assert Expense.select().count() == 2
