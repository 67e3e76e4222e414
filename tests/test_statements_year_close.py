"""A fiscal year closes once all its months are, and years close in order; its close splits
the year's result (a loss year carries its loss to the next year's first month, and a loss
month inside a year is netted by the year), reconciles the advances the months paid, puts its
hash on the ledger and issues each member an annual PDF that only they (and the board) read.
Monthly statements say they are provisional and show the advance paid."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
from conftest import login_client
from test_statements_close import attachment, declares_pdfa_3b, pdftext

from coop.audit.events import events_for
from coop.board.operations import InvalidParameters, update_parameters
from coop.errors import Conflict, DomainError
from coop.models import Earning, Event, Parameter, TaskState
from coop.statements import operations, year_close
from coop.statements.models import AnnualStatement, Expense, FiscalYear, Statement
from coop.statements.render import StatementValues, render_statement

AFTER_YEAR = datetime(2026, 2, 2, 12, 0)  # naive UTC: after January 2026 ended in Paris


@pytest.fixture
def statements_app(app):
    with app.test_request_context():
        yield app


def ns(year, month, day):
    return int(datetime(year, month, day, 12, tzinfo=UTC).timestamp()) * 10**9


@pytest.fixture
def world(statements_app, make_member, make_board, make_task):
    """Alice and Bob hold capital; done(member, y, m, price, margin) completes a task then."""
    members = {"alice": make_member(name="Alice", capital_cents=10000, pseudonym="w-alice"),
               "bob": make_member(name="Bob", capital_cents=30000, pseudonym="w-bob")}
    counter = iter(range(9000, 10000))

    def done(who, year, month, price=10000, margin=2000, day=10):
        task = make_task(category="moderation", estimated_minutes=60, price_cents=price,
                         state=TaskState.COMPLETED, member=members[who])
        Earning.create(member=members[who], task=task, price_cents=price,
                       earnings_cents=price - margin, margin_cents=margin)
        Event.create(kind="task.completed", subject=f"task:{task.id}", data="{}",
                     unix_ns=ns(year, month, day), ledger_index=next(counter))

    return {**members, "board": make_board(), "done": done}


def close(board, *months):
    for month in months:
        operations.close_and_issue(board, month, now=AFTER_YEAR)


def test_monthly_statements_are_provisional_and_pay_capped_advances(world, tmp_path):
    world["done"]("alice", 2025, 11)
    world["done"]("bob", 2025, 11)
    Expense.create(month="2025-12", label="Hosting", amount_cents=3000)  # a loss month
    close(world["board"], "2025-11", "2025-12")
    nov = {st.member_id: st.figures_data["figures"]
           for st in Statement.select().where(
               Statement.period == operations.closed_period("2025-11"))}
    # 4000 of margins, 45% = 1800 of work share, 900 each; half advanced.
    assert {m: (f["work_share_cents"], f["advance_cents"], f["paid_cents"])
            for m, f in nov.items()} == {world["alice"].id: (900, 450, 8000 + 450),
                                         world["bob"].id: (900, 450, 8000 + 450)}
    dec = operations.closed_period("2025-12")
    assert dec.totals_data["loss_carried_cents"] == 3000
    for st in Statement.select().where(Statement.period == dec):
        assert st.figures_data["figures"]["advance_cents"] == 0  # the loss stops advances
    name, pdf = operations.member_pdf(world["alice"], "2025-11", world["alice"].id, False)
    text = pdftext(pdf, tmp_path)
    assert "Provisional" in text and "Advance on the year's work share" in text
    assert attachment(pdf, tmp_path)["figures"]["advance_cents"] == 450


def test_the_year_closes_when_its_months_are_and_reconciles(world, tmp_path):
    done, board = world["done"], world["board"]
    done("alice", 2025, 11)
    done("bob", 2025, 11)
    Expense.create(month="2025-12", label="Hosting", amount_cents=3000)
    close(board, "2025-11")
    assert "2025-12 is not closed" in year_close.close_refusal(2025)
    with pytest.raises(DomainError, match="2025-12 is not closed"):
        year_close.close_year(board, 2025)
    close(board, "2025-12")
    with pytest.raises(DomainError, match="Close the fiscal year 2025 first"):
        operations.close_month(board, "2026-01", now=AFTER_YEAR)
    with pytest.raises(DomainError, match="2025 is the next"):
        year_close.close_year(board, 2026)
    with pytest.raises(Exception, match="board"):
        year_close.close_year(world["alice"], 2025)

    fiscal_year = year_close.close_and_issue(board, 2025)
    t = fiscal_year.totals_data
    # The months: +4000 then -3000; the year: 1000, of which 45% is work share.
    assert (t["income_cents"], t["surplus_cents"], t["loss_carried_cents"]) == (1000, 1000, 0)
    assert (t["work_share_cents"], t["advances_cents"]) == (450, 900)
    assert (t["first_month"], t["last_month"], t["vote"]) == ("2025-11", "2025-12", None)
    figures = {st.member_id: st.figures_data for st in AnnualStatement.select()}
    for member in ("alice", "bob"):
        f = figures[world[member].id]
        # 225 of work share each against 450 advanced: nothing due, 225 carried forward.
        assert (f["work_share_cents"], f["advances_cents"], f["balance_due_cents"],
                f["excess_carried_cents"]) == (225, 450, 0, 225)
    assert sum(f["dividend_cents"] for f in figures.values()) == t["dividends_cents"] == 100
    with pytest.raises(Conflict):
        year_close.close_year(board, 2025)

    (entry,) = [e for e in events_for("fiscal_year:2025") if e.kind == "fiscal_year.closed"]
    assert entry.payload["totals_sha256"] == fiscal_year.totals_sha256
    assert entry.ledger_index == fiscal_year.ledger_index
    st = AnnualStatement.get(AnnualStatement.member == world["alice"].id)
    (issued,) = events_for(f"annual_statement:{st.id}")
    name, pdf = year_close.annual_pdf(world["alice"], 2025, world["alice"].id)
    assert name == f"FY2025-member-{world['alice'].id}.pdf"
    assert issued.payload["pdf_sha256"] == hashlib.sha256(pdf).hexdigest() == st.pdf_sha256
    assert declares_pdfa_3b(pdf, tmp_path)
    data = attachment(pdf, tmp_path)
    assert data["figures"] == json.loads(st.figures) and data["kind"] == "annual"
    assert "Annual profit-sharing statement" in pdftext(pdf, tmp_path)
    # Anyone with the attached JSON re-renders the same bytes (`coop statements reproduce`).
    assert render_statement(StatementValues.from_data(data)) == pdf
    # Now the next fiscal year's first month may close; the excess comes off next year.
    done("alice", 2026, 1)
    operations.close_month(board, "2026-01", now=AFTER_YEAR)
    assert year_close.compute(2026).members[0]["excess_brought_cents"] == 225


def test_a_loss_year_carries_its_loss_to_the_next_year(world):
    board = world["board"]
    Expense.create(month="2025-12", label="Hosting", amount_cents=1500)
    close(board, "2025-12")
    fiscal_year = year_close.close_and_issue(board, 2025)
    assert fiscal_year.totals_data["loss_carried_cents"] == 1500
    world["done"]("alice", 2026, 1)  # 2000 of margin
    totals = operations.compute("2026-01").figures["totals"]
    assert (totals["loss_brought_cents"], totals["surplus_cents"]) == (1500, 500)


def test_the_year_not_its_last_month_decides_the_loss_brought(world):
    """November's surplus makes up December's loss: the year carries none into January, though
    December, month by month, carried one."""
    world["done"]("alice", 2025, 11)  # 2000 of margin
    Expense.create(month="2025-12", label="Hosting", amount_cents=1500)
    close(world["board"], "2025-11", "2025-12")
    assert operations.closed_period("2025-12").totals_data["loss_carried_cents"] == 1500
    year_close.close_and_issue(world["board"], 2025)
    world["done"]("alice", 2026, 1)
    assert operations.compute("2026-01").figures["totals"]["loss_brought_cents"] == 0


def test_members_read_only_their_own_annual_statement(world, app, make_member):
    world["done"]("alice", 2025, 12)
    world["done"]("bob", 2025, 12)
    close(world["board"], "2025-12")
    year_close.close_and_issue(world["board"], 2025)
    alice, bob = world["alice"], world["bob"]
    own = f"/statements/years/2025/members/{alice.id}.pdf"
    client = login_client(app, alice)
    assert client.get(own).status_code == 200
    assert client.get(f"/statements/years/2025/members/{bob.id}.pdf").status_code == 404
    page = client.get("/statements/years/2025")
    assert page.status_code == 200 and b"w-bob" in page.data  # the coop's accounts are theirs
    assert own.encode() in page.data
    assert f"/statements/years/2025/members/{bob.id}.pdf".encode() not in page.data
    client = login_client(app, make_member())  # no statement for the year
    assert client.get(own).status_code == 404
    client = login_client(app, world["board"])
    assert client.get(f"/statements/years/2025/members/{bob.id}.pdf").status_code == 200


def test_the_board_closes_a_year_through_its_confirmation(world, app):
    world["done"]("alice", 2025, 12)
    close(world["board"], "2025-12")
    client = login_client(app, world["board"])
    page = client.get("/statements/years/2025/close")
    assert page.status_code == 200 and b"Close the fiscal year 2025" in page.data
    assert FiscalYear.select().count() == 0  # a GET changes nothing
    assert client.post("/statements/years/2025/close", data={}).status_code == 200  # unconfirmed
    assert FiscalYear.select().count() == 0
    response = client.post("/statements/years/2025/close", data={"confirmed": "1"})
    assert response.status_code == 302 and FiscalYear.select().count() == 1


def test_the_start_month_is_fixed_once_a_month_is_closed(world):
    update_parameters(world["board"], {"fiscal_year_start_month": 7})
    assert year_close.year_of("2026-06") == 2025 and year_close.year_of("2026-07") == 2026
    Parameter.update(value=1).where(Parameter.key == "fiscal_year_start_month").execute()
    world["done"]("alice", 2025, 12)
    close(world["board"], "2025-12")
    with pytest.raises(InvalidParameters, match="fixed once a month is closed"):
        update_parameters(world["board"], {"fiscal_year_start_month": 4})


def test_the_command_line_closes_a_year(world, runner):
    world["done"]("alice", 2025, 12)
    close(world["board"], "2025-12")
    result = runner.invoke(args=["statements", "close-year", "--year", "2026"])
    assert result.exit_code == 1 and "2025 is the next" in result.output
    result = runner.invoke(args=["statements", "close-year", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert AnnualStatement.select().where(AnnualStatement.pdf_sha256.is_null()).count() == 0
