"""Closing a month freezes figures that add up to the cent, puts their hash and every issued
PDF's hash on the ledger, refuses a second close, and issues PDF/A-3b statements whose text and
attached JSON carry the database's figures."""

import hashlib
import json
import re
import subprocess
import time
from datetime import UTC, datetime

import peewee
import pytest

from coop.audit.events import events_for
from coop.errors import Conflict, DomainError
from coop.models import Earning, Event, TaskState
from coop.statements import operations
from coop.statements.models import Expense, Period, Statement
from coop.statements.render import render_statement

MONTH = "2025-03"
AFTER = datetime(2025, 4, 2, 12, 0)  # naive UTC, after the month ended in Paris


@pytest.fixture
def statements_app(app):
    """The app inside a request, as operations translate their messages for a request."""
    assert "statements" in app.blueprints and "statements" in app.cli.commands
    with app.test_request_context():
        yield app


def ns(year, month, day, hour=12, minute=0):
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * 10**9


# The worked example of docs/profit-sharing.md: (member, category, minutes, price, margin).
EXAMPLE_TASKS = [
    ("alice", "moderation", 60, 4500, 360),
    ("alice", "transcription", 90, 6000, 480),
    ("bob", "image_labelling", 30, 2500, 200),
    ("bob", "data_entry", 120, 8000, 640),
    ("bob", "moderation", 45, 3333, 267),
    ("chloe", "search_relevance", 75, 5555, 444),
]
EXAMPLE_CAPITAL = {"alice": 10000, "bob": 30000, "chloe": 10000}
EXAMPLE_EXPENSES = [("Hosting", 500), ("Bank fees", 178)]


@pytest.fixture
def example_month(statements_app, make_member, make_task):
    """Build the worked example's month: 3 members, 6 completed tasks, 2 expenses."""
    from coop.params import current

    assert current().margin_bp == 800 and current().basis_earnings_pct == 100
    from coop.models import Parameter

    for key, value in (("basis_earnings_pct", 50), ("basis_hours_pct", 30),
                       ("basis_equal_pct", 20)):
        Parameter.create(key=key, value=value)
    members = {
        name: make_member(name=name.title(), capital_cents=capital, pseudonym=f"w-{name}")
        for name, capital in EXAMPLE_CAPITAL.items()
    }
    for i, (who, category, minutes, price, margin) in enumerate(EXAMPLE_TASKS):
        task = make_task(category=category, estimated_minutes=minutes, price_cents=price,
                         state=TaskState.COMPLETED, member=members[who])
        Earning.create(member=members[who], task=task, price_cents=price,
                       earnings_cents=price - margin, margin_cents=margin)
        Event.create(kind="task.completed", subject=f"task:{task.id}", data="{}",
                     unix_ns=ns(2025, 3, 3 + 4 * i), ledger_index=9000 + i)
    for label, amount in EXAMPLE_EXPENSES:
        Expense.create(month=MONTH, label=label, amount_cents=amount)
    return members


def pdftext(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdf_file(pdf: bytes, tmp_path, name="x.pdf"):
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def attachment(pdf: bytes, tmp_path) -> dict:
    """Extract statement.json with pdfdetach, as an outsider would."""
    path = pdf_file(pdf, tmp_path, "a.pdf")
    listing = subprocess.run(["pdfdetach", "-list", str(path)], check=True,
                             capture_output=True, text=True).stdout
    assert "statement.json" in listing
    out = tmp_path / "detached"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(path)], check=True)
    return json.loads((out / "statement.json").read_text())


def declares_pdfa_3b(pdf: bytes, tmp_path) -> bool:
    """The XMP metadata claims PDF/A-3b (a claim only: veraPDF would check the rest)."""
    meta = subprocess.run(["pdfinfo", "-meta", str(pdf_file(pdf, tmp_path, "m.pdf"))],
                          check=True, capture_output=True, text=True).stdout
    return 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta


def every_page_renders(pdf: bytes, tmp_path) -> int:
    path = pdf_file(pdf, tmp_path, "p.pdf")
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(path)], check=True, capture_output=True, text=True
    ).stdout.splitlines() if line.startswith("Pages:")))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")],
                   check=True)
    assert len(list(tmp_path.glob("page*.png"))) == pages
    return pages


def test_worked_example_to_the_cent(example_month):
    """The numbers of docs/profit-sharing.md, step by step."""
    figures = operations.compute(MONTH).figures
    t = figures["totals"]
    assert (t["tasks"], t["minutes"]) == (6, 420)
    assert (t["gross_cents"], t["earnings_cents"], t["margins_cents"]) == (29888, 27497, 2391)
    assert (t["expenses_cents"], t["income_cents"], t["surplus_cents"]) == (678, 1713, 1713)
    assert t["loss_carried_cents"] == 0
    assert (t["legal_reserve_cents"], t["development_reserve_cents"]) == (257, 514)
    assert (t["highest_capital_cents"], t["legal_reserve_before_cents"]) == (50000, 0)
    assert (t["work_share_cents"], t["dividends_cents"]) == (771, 171)
    assert (t["work_share_earnings_cents"], t["work_share_hours_cents"],
            t["work_share_equal_cents"]) == (386, 231, 154)
    ids = {m.id: name for name, m in example_month.items()}
    got = {ids[m["member_id"]]: (m["tasks"], m["minutes"], m["gross_cents"],
                                 m["earnings_cents"], m["work_share_cents"],
                                 m["dividend_cents"], m["total_cents"])
           for m in figures["members"]}
    assert got == {
        "alice": (2, 150, 10500, 9660, 269, 34, 9963),
        "bob": (3, 195, 13833, 12726, 337, 103, 13166),
        "chloe": (1, 75, 5555, 5111, 165, 34, 5310),
    }
    # Every cent billed is accounted for: members, reserves and expenses.
    assert sum(m["total_cents"] for m in figures["members"]) + 257 + 514 + 678 == 29888


def test_close_freezes_figures_and_records_their_hash(example_month, make_board):
    board = make_board()
    period = operations.close_month(board, MONTH, now=AFTER)
    totals = period.totals_data
    assert totals == operations.compute(MONTH).figures["totals"]
    expected = hashlib.sha256(
        json.dumps(totals, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert period.totals_sha256 == expected
    (closed,) = [e for e in events_for(f"period:{MONTH}") if e.kind == "period.closed"]
    assert closed.payload["totals_sha256"] == expected
    assert closed.payload["surplus_cents"] == 1713 and closed.ledger_index is not None
    assert period.checkpoint_size >= closed.ledger_index + 1 and period.checkpoint_note
    assert Statement.select().where(Statement.period == period).count() == 3
    # Frozen: a late change to an earning does not move the closed month.
    Earning.update(earnings_cents=1).execute()
    stored = {st.member_id: st.figures_data["figures"]["total_cents"] for st in Statement.select()}
    assert sorted(stored.values()) == [5310, 9963, 13166]


def test_second_close_is_refused_by_rule_and_by_constraint(example_month, make_board):
    board = make_board()
    operations.close_month(board, MONTH, now=AFTER)
    with pytest.raises(Conflict, match="closed"):
        operations.close_month(board, MONTH, now=AFTER)
    from coop.db import database

    with pytest.raises(peewee.IntegrityError), database.atomic():
        Period.create(month=MONTH, totals="{}", totals_sha256="0" * 64)


def test_an_unfinished_month_cannot_close(statements_app, make_board):
    # 2025-03 ends at 2025-03-31 22:00 UTC (midnight in Paris, summer time).
    with pytest.raises(DomainError, match="not ended"):
        operations.close_month(make_board(), MONTH, now=datetime(2025, 3, 31, 21, 59))
    operations.close_month(make_board(), MONTH, now=datetime(2025, 3, 31, 22, 0))


def test_members_cannot_close(statements_app, make_member):
    with pytest.raises(DomainError):
        operations.close_month(make_member(), MONTH, now=AFTER)
    assert Period.select().count() == 0


def test_a_loss_is_carried_to_next_month(example_month, make_board):
    Expense.create(month=MONTH, label="Laptop", amount_cents=2000)  # margins are 2391
    board = make_board()
    march = operations.close_month(board, MONTH, now=AFTER).totals_data
    assert march["income_cents"] == 2391 - 678 - 2000 == -287
    assert march["surplus_cents"] == 0 and march["loss_carried_cents"] == 287
    assert march["work_share_cents"] == march["dividends_cents"] == 0
    operations.add_expense(board, "2025-04", "Hosting", 100)
    april = operations.compute("2025-04").figures["totals"]
    assert april["loss_brought_cents"] == 287 and april["loss_carried_cents"] == 387
    with pytest.raises(DomainError, match="in order"):
        operations.close_month(board, "2025-02", now=AFTER)


def test_months_close_strictly_in_order(example_month, make_board):
    """April before March would leave March open forever, its surplus never shared."""
    board = make_board()
    after_may = datetime(2025, 6, 2, 12, 0)
    with pytest.raises(DomainError, match="2025-03 is the next month to close"):
        operations.close_month(board, "2025-04", now=after_may)
    assert Period.select().count() == 0
    assert operations.first_open_month() == MONTH
    operations.close_month(board, MONTH, now=after_may)
    with pytest.raises(DomainError, match="2025-04 is the next month to close"):
        operations.close_month(board, "2025-05", now=after_may)
    operations.close_month(board, "2025-04", now=after_may)
    operations.close_month(board, "2025-05", now=after_may)
    assert [p.month for p in Period.select().order_by(Period.month)] == [
        "2025-03", "2025-04", "2025-05"]


def test_an_earlier_expense_makes_its_month_the_first_to_close(example_month, make_board):
    Expense.create(month="2025-01", label="Registration fee", amount_cents=5000)
    assert operations.first_open_month() == "2025-01"
    with pytest.raises(DomainError, match="2025-01 is the next month to close"):
        operations.close_month(make_board(), MONTH, now=AFTER)


def test_expenses_refused_after_close(example_month, make_board):
    board = make_board()
    operations.close_month(board, MONTH, now=AFTER)
    with pytest.raises(Conflict):
        operations.add_expense(board, MONTH, "Late invoice", 1000)
    assert Expense.select().where(Expense.month == MONTH).count() == 2


def test_issued_pdfs_carry_the_figures_and_their_hashes_go_on_the_ledger(
    example_month, make_board, tmp_path
):
    board = make_board()
    period = operations.close_and_issue(board, MONTH, now=AFTER)
    issued = [e for e in Event.select().where(Event.kind == "statement.issued")]
    assert len(issued) == 4
    statements = list(Statement.select().where(Statement.period == period))
    for st in statements:
        name, pdf = operations.member_pdf(board, MONTH, st.member_id, draft=False, now=AFTER)
        sha = hashlib.sha256(pdf).hexdigest()
        assert sha == st.pdf_sha256
        (event,) = [e for e in issued if e.subject == f"statement:{st.id}"]
        assert event.payload == {"month": MONTH, "member": st.member.pseudonym,
                                 "pdf_sha256": sha}
        data = attachment(pdf, tmp_path)
        assert data["figures"] == st.figures_data["figures"]
        assert data["tasks"] == st.figures_data["tasks"]
        assert data["totals"] == period.totals_data and not data["draft"]
        assert data["totals_sha256"] == period.totals_sha256
        assert declares_pdfa_3b(pdf, tmp_path)
        every_page_renders(pdf, tmp_path)
    bob = example_month["bob"]
    _, pdf = operations.member_pdf(bob, MONTH, bob.id, draft=False, now=AFTER)
    text = pdftext(pdf, tmp_path)
    for figure in ("€127.26", "€3.37", "€1.03", "€131.66", "€17.13", "€300.00"):
        assert figure in text
    assert "9002" in text and "2025-03-11 13:00:00 +0100" in text  # ledger index and time
    assert f"size {period.checkpoint_size}" in text and "DRAFT" not in text
    (closed,) = [e for e in events_for(f"period:{MONTH}") if e.kind == "period.closed"]
    assert f"Month closed at ledger index {closed.ledger_index}." in text
    _, summary = operations.summary_pdf(board, MONTH, draft=False, locale="en", now=AFTER)
    assert hashlib.sha256(summary).hexdigest() == Period.get_by_id(period.id).summary_sha256
    assert attachment(summary, tmp_path)["totals"] == period.totals_data
    text = pdftext(summary, tmp_path)
    for figure in ("€298.88", "€23.91", "€6.78", "€17.13", "€2.57", "€5.14", "€7.71", "€1.71",
                   "€99.63", "€131.66", "€53.10", "Hosting"):
        assert figure in text
    assert every_page_renders(summary, tmp_path) >= 1


def result_lines(text: str) -> list[tuple[str, int]]:
    """Return the (label, signed cents) lines of the summary's "Result for the month" table."""
    section = text.split("Result for the month", 1)[1].split("A surplus", 1)[0]
    section = section.split("A loss", 1)[0]
    lines = []
    for line in section.splitlines():
        match = re.match(r"^\s*(.+?)\s{2,}(-?)€([\d,]+)\.(\d\d)\s*$", line)
        if match:
            cents = int(match[3].replace(",", "")) * 100 + int(match[4])
            lines.append((match[1].strip(), -cents if match[2] else cents))
    return lines


def assert_each_subtotal_sums(lines):
    running = 0
    for label, cents in lines:
        if label.startswith("="):
            assert cents == running, (label, cents, running)
        else:
            running += cents


@pytest.mark.parametrize("laptop", [0, 2000])
def test_the_summary_reads_top_to_bottom(example_month, make_board, tmp_path, laptop):
    """An accountant's reading: billed, less earnings, = margins, less expenses and the loss
    brought forward, = the month's result; each "=" line the sum of the lines above it."""
    if laptop:
        Expense.create(month=MONTH, label="Laptop", amount_cents=laptop)
    _, pdf = operations.summary_pdf(make_board(), MONTH, draft=True, locale="en", now=AFTER)
    text = pdftext(pdf, tmp_path)
    lines = result_lines(text)
    assert [label for label, _ in lines] == [
        "Billed to clients (6 tasks)", "Less members' earnings", "= Coop margins",
        "Less operating expenses", "Less loss brought forward", "= Result for the month"]
    assert lines[0][1] == 29888 and lines[1][1] == -27497
    assert lines[-1][1] == 1713 - laptop
    assert_each_subtotal_sums(lines)
    if laptop:
        assert "A loss: €2.87 is carried to next month" in text
    else:
        assert "A surplus: €17.13 is shared below." in text


def test_re_rendering_reproduces_the_pdf_byte_for_byte(example_month, statements_app, make_board,
                                                       tmp_path):
    """Fixed dates (the end of the period), a file identifier from the attached JSON: the same
    statement renders to the same bytes, so its hash on the ledger can be checked by anyone."""
    board = make_board()
    _, first = operations.summary_pdf(board, MONTH, draft=True, locale="en", now=AFTER)
    time.sleep(1.1)  # the clock's second moves on: nothing in the PDF may follow it
    _, second = operations.summary_pdf(board, MONTH, draft=True, locale="en", now=AFTER)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()

    period = operations.close_and_issue(board, MONTH, now=AFTER)
    time.sleep(1.1)
    frozen = operations._frozen(period)
    for st in Statement.select().where(Statement.period == period):
        values = operations.member_values(frozen, st.member, period, "en")
        again = render_statement(values)
        assert hashlib.sha256(again).hexdigest() == st.pdf_sha256
    again = render_statement(operations.board_values(frozen, period, "en"))
    assert hashlib.sha256(again).hexdigest() == Period.get_by_id(period.id).summary_sha256
    # From the attached JSON alone, as an outsider would: `coop statements reproduce`.
    runner = statements_app.test_cli_runner()
    for st in Statement.select().where(Statement.period == period):
        _, pdf = operations.member_pdf(board, MONTH, st.member_id, draft=False, now=AFTER)
        json_path = tmp_path / f"{st.id}.json"
        json_path.write_text(json.dumps(attachment(pdf, tmp_path)))
        result = runner.invoke(args=["statements", "reproduce", str(json_path)])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == st.pdf_sha256
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "other"}')
    result = runner.invoke(args=["statements", "reproduce", str(bad)])
    assert result.exit_code != 0 and "not a statement's JSON" in result.output
    # The dates are the end of March in Paris (UTC+2 since the 30th), not today.
    info = subprocess.run(["pdfinfo", "-isodates", str(pdf_file(again, tmp_path))], check=True,
                          capture_output=True, text=True).stdout
    assert re.search(r"CreationDate:\s+2025-03-31T22:00:00", info)
    assert re.search(r"ModDate:\s+2025-03-31T22:00:00", info)


def test_drafts_are_marked_and_never_recorded(example_month, make_board, tmp_path):
    board = make_board()
    _, pdf = operations.summary_pdf(board, MONTH, draft=True, locale="fr", now=AFTER)
    text = pdftext(pdf, tmp_path)
    assert "DRAFT — provisional" in text or "BROUILLON" in text
    assert "17,13" in text  # French figures
    data = attachment(pdf, tmp_path)
    assert data["draft"] is True and data["checkpoint"] is None
    assert Event.select().where(Event.kind.in_(["statement.issued", "period.closed"])).count() == 0
    assert Period.select().count() == 0


def test_cli_close_and_render(example_month, statements_app, tmp_path):
    runner = statements_app.test_cli_runner()
    out = tmp_path / "draft"
    result = runner.invoke(args=["statements", "render", "--month", MONTH, "--out", str(out),
                                 "--draft"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{MONTH}-summary-draft.pdf"]
        + [f"{MONTH}-member-{m.id}-draft.pdf" for m in example_month.values()]
    )
    result = runner.invoke(args=["statements", "close", "--month", MONTH])
    assert result.exit_code == 0, result.output
    assert Event.select().where(Event.kind == "statement.issued").count() == 4
    result = runner.invoke(args=["statements", "close", "--month", MONTH])
    assert result.exit_code != 0 and "closed" in result.output
    out = tmp_path / "final"
    result = runner.invoke(args=["statements", "render", "--month", MONTH, "--out", str(out)])
    assert result.exit_code == 0, result.output
    shas = {hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()}
    assert shas == {st.pdf_sha256 for st in Statement.select()} | {
        Period.get().summary_sha256}
    result = runner.invoke(args=["statements", "close", "--month", "2025-13"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output


def test_a_french_summary_has_french_months_hours_and_percentages(example_month, make_board,
                                                                   tmp_path):
    """The figures go through coop.formats in the statement's language: the month by name,
    hours and percentages with a decimal comma, euros after the amount."""
    _, pdf = operations.summary_pdf(make_board(), MONTH, draft=True, locale="fr", now=AFTER)
    text = pdftext(pdf, tmp_path).replace("\u00a0", " ").replace("\u202f", " ")
    assert "mars 2025" in text and "2025-03" not in text.split("SHA-256")[0]
    assert "15,00 %" in text  # the legal reserve's share
    assert "7,00" in text  # 420 minutes of work, in hours
    assert "17,13 €" in text
    _, english = operations.summary_pdf(make_board(), MONTH, draft=True, locale="en", now=AFTER)
    text = pdftext(english, tmp_path)
    assert "March 2025" in text and "15.00%" in text and "€17.13" in text
