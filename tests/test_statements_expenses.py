"""The board's statements page: the open month to close next and the month in progress with
their expenses, each correctable or removable until its month closes; every closed month in one
list with its PDFs; one close action, through its confirmation page."""

import re

import pytest
from conftest import login_client

from coop import calendar
from coop.models import Event
from coop.statements import operations
from coop.statements.models import Expense, Period


@pytest.fixture
def months(app, make_board):
    """Two months ago closed; last month open with an expense (to close next); this month too."""
    board = make_board()
    now = operations.current_month()
    closed, last = calendar.shift_month(now, -2), calendar.shift_month(now, -1)
    with app.test_request_context():
        operations.add_expense(board, closed, "Bank fees", 300)
        operations.close_and_issue(board, closed)
        hosting = operations.add_expense(board, last, "Hosting", 1200)
        operations.add_expense(board, now, "Domain", 1500)
    return {"board": board, "closed": closed, "last": last, "now": now, "hosting": hosting,
            "web": login_client(app, board)}


def test_the_page_shows_open_months_closed_months_and_one_close(months):
    page = months["web"].get("/statements/").get_data(as_text=True)
    assert 'href="/board/"' in page
    start = page.index(f'id="open-{months["last"]}"')
    open_last = page[start:page.index("</section>", start)]
    assert "Hosting" in open_last and f'href="/statements/expenses/{months["hosting"].id}"' in (
        open_last)
    assert f'id="open-{months["now"]}"' in page and "Domain" in page
    closed = page[page.index('id="closed-months"'):]
    assert f'id="closed-{months["closed"]}"' in closed
    assert f"/statements/{months['closed']}/summary.pdf" in closed
    # One close action, a link to the confirmation page of the month to close next.
    assert re.findall(r'href="(/statements/[^"]+/close)"', page) == [
        f"/statements/{months['last']}/close"
    ]
    assert page.count("<form") < 8  # not a form per month any more


def test_an_expense_of_an_open_month_can_be_corrected_and_removed(months):
    web, hosting = months["web"], months["hosting"]
    form = web.get(f"/statements/expenses/{hosting.id}").get_data(as_text=True)
    assert 'value="Hosting"' in form and 'value="12.00"' in form
    bad = web.post(f"/statements/expenses/{hosting.id}", data={"label": "", "amount": "x"})
    assert bad.status_code == 400
    assert Expense.get_by_id(hosting.id).amount_cents == 1200
    fixed = web.post(f"/statements/expenses/{hosting.id}",
                     data={"label": "Hosting (VPS)", "amount": "14,50"})
    assert fixed.status_code == 302
    corrected = Expense.get_by_id(hosting.id)
    assert (corrected.label, corrected.amount_cents) == ("Hosting (VPS)", 1450)
    assert web.post(f"/statements/expenses/{hosting.id}/delete").status_code == 302
    assert Expense.get_or_none(Expense.id == hosting.id) is None
    assert web.get(f"/statements/expenses/{hosting.id}").status_code == 404


def test_an_expense_of_a_closed_month_stays_as_it_was(months):
    web = months["web"]
    fee = Expense.get(Expense.month == months["closed"])
    page = web.get(f"/statements/expenses/{fee.id}").get_data(as_text=True)
    assert "its figures are final" in page and "<form" not in page.split("<main")[1]
    assert web.post(f"/statements/expenses/{fee.id}",
                    data={"label": "Other", "amount": "1"}).status_code == 409
    assert web.post(f"/statements/expenses/{fee.id}/delete").status_code == 409
    assert Expense.get_by_id(fee.id).amount_cents == 300
    assert Period.get(Period.month == months["closed"]).totals_data["expenses_cents"] == 300
    assert not Event.select().where(Event.kind == "expense.changed").exists()


@pytest.mark.parametrize("role", ["member", "client"])
def test_only_the_board_corrects_expenses(app, months, make_member, make_client_user, role):
    user = make_member() if role == "member" else make_client_user()
    web, hosting = login_client(app, user), months["hosting"]
    assert web.get(f"/statements/expenses/{hosting.id}").status_code == 403
    assert web.post(f"/statements/expenses/{hosting.id}",
                    data={"label": "Mine", "amount": "1"}).status_code == 403
    assert web.post(f"/statements/expenses/{hosting.id}/delete").status_code == 403
    assert Expense.get_by_id(hosting.id).label == "Hosting"
