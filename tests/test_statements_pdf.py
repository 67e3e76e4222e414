"""What a statement PDF shows and how it is built (issue 12, items 14 and 15): the coop's
identity, an issue date and a number; category labels in the statement's language; table
headers repeated on every page; losses below the chart's line; chart labels of 7 pt or more;
a tagged PDF (PDF/UA-1) that stays PDF/A-3b with its JSON attached, checked with poppler and
pikepdf as a screen reader's software would read it. The annual statement is built the same
way: the coop, the day the year closed, its number ("FY2024-0042"), tagged."""

import io
import re
import subprocess
from datetime import datetime
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from test_statements_close import (  # noqa: F401 - fixtures
    AFTER,
    MONTH,
    attachment,
    declares_pdfa_3b,
    example_month,
    ns,
    pdf_file,
    pdftext,
    statements_app,
)

from coop.audit.events import events_for
from coop.formats import money
from coop.models import Earning, Event, Parameter, TaskState
from coop.statements import operations, year_close
from coop.statements.models import AnnualStatement, Expense, Statement
from coop.statements.render import (
    CHART_FONT,
    LOSS,
    Bar,
    StatementValues,
    bar_chart,
    render_statement,
    statement_html,
)

SVG = "{http://www.w3.org/2000/svg}"
IDENTITY = {
    "COOP_NAME": "Coop des Micro-Tâches SCOP SA",
    "COOP_REGISTRATION": "RCS Paris 912 345 678 — SIRET 912 345 678 00017",
    "COOP_ADDRESS": "12 rue des Coopératives\n75011 Paris",
}


@pytest.fixture
def identified(statements_app):  # noqa: F811 - fixture
    statements_app.config.update(IDENTITY)
    return statements_app


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_issued_statements_carry_the_coop_an_issue_date_and_a_number(
    identified, example_month, make_board, tmp_path  # noqa: F811 - fixtures
):
    board, bob = make_board(), example_month["bob"]
    _, draft = operations.member_pdf(board, MONTH, bob.id, draft=True, now=AFTER)
    text = pdftext(draft, tmp_path)
    assert IDENTITY["COOP_NAME"] in text and "Not issued: a draft" in text
    assert "Statement no." not in text and attachment(draft, tmp_path)["number"] is None

    bob.locale = "fr"  # issued in the member's language
    bob.save()
    operations.close_and_issue(board, MONTH, now=AFTER)
    (closed,) = [e for e in events_for(f"period:{MONTH}") if e.kind == "period.closed"]
    issued_on = datetime.fromtimestamp(closed.unix_ns / 1e9, ZoneInfo("Europe/Paris")).date()
    numbers = set()
    for st in Statement.select():
        _, pdf = operations.member_pdf(board, MONTH, st.member_id, draft=False, now=AFTER)
        data = attachment(pdf, tmp_path)
        assert data["coop"] == {"name": IDENTITY["COOP_NAME"],
                                "registration": IDENTITY["COOP_REGISTRATION"],
                                "address": IDENTITY["COOP_ADDRESS"]}
        assert data["number"] == f"{MONTH}-{st.member_id:04d}"
        assert data["issued_on"] == issued_on.isoformat()
        numbers.add(data["number"])
        text = plain(pdftext(pdf, tmp_path))
        # Bob's is in French: "Relevé n° …" on top, "N° …" in every page's footer.
        french = st.member_id == bob.id
        number = f"Relevé n° {data['number']}" if french else f"Statement no. {data['number']}"
        for line in (IDENTITY["COOP_NAME"], IDENTITY["COOP_REGISTRATION"],
                     "12 rue des Coopératives", "75011 Paris", number):
            assert line in text, line
        footer = f"{'N°' if french else 'No.'} {data['number']}"
        assert text.count(footer) == text.count("\f")  # every page's footer
        if not french:
            assert f"Issued on {issued_on.strftime('%b')} {issued_on.day}, {issued_on.year}" in text
    assert len(numbers) == 3
    # Bob's statement, in French, writes the date the French way.
    _, pdf = operations.member_pdf(board, MONTH, bob.id, draft=False, now=AFTER)
    months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
              "nov.", "déc."]
    assert f"{issued_on.day} {months[issued_on.month - 1]} {issued_on.year}" in plain(
        pdftext(pdf, tmp_path))
    _, summary = operations.summary_pdf(board, MONTH, draft=False, locale="en", now=AFTER)
    data = attachment(summary, tmp_path)
    assert data["number"] == f"{MONTH}-board" and data["issued_on"] == issued_on.isoformat()
    assert f"Statement no. {MONTH}-board" in pdftext(summary, tmp_path)


def test_a_french_statement_names_categories_and_weights_in_french(
    example_month, tmp_path  # noqa: F811 - fixtures
):
    bob = example_month["bob"]
    _, pdf = operations.member_pdf(bob, MONTH, bob.id, draft=True, locale="fr", now=AFTER)
    text = plain(pdftext(pdf, tmp_path))
    assert "Étiquetage d'images" in text and "Saisie de données" in text
    assert "image_labelling" not in text and "data_entry" not in text
    assert "mars 2025" in text and "3,25 h" in text and "127,26 €" in text
    assert "50 %" in text and "30 %" in text  # the work-share keys' weights
    _, english = operations.member_pdf(bob, MONTH, bob.id, draft=True, locale="en", now=AFTER)
    text = pdftext(english, tmp_path)
    assert "Image labelling" in text and "50%" in text and "3.25 h" in text


def page(pdf: bytes, tmp_path, number: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(number), "-l", str(number),
         str(pdf_file(pdf, tmp_path)), "-"], check=True, capture_output=True, text=True).stdout


def test_a_long_table_repeats_its_header_on_every_page(
    example_month, make_task, tmp_path  # noqa: F811 - fixtures
):
    bob = example_month["bob"]
    for i in range(60):
        task = make_task(category="data_entry", estimated_minutes=10, price_cents=1000,
                         state=TaskState.COMPLETED, member=bob)
        Earning.create(member=bob, task=task, price_cents=1000, earnings_cents=920,
                       margin_cents=80)
        Event.create(kind="task.completed", subject=f"task:{task.id}", data="{}",
                     unix_ns=ns(2025, 3, 5, 8, i), ledger_index=9100 + i)
    _, pdf = operations.member_pdf(bob, MONTH, bob.id, draft=True, now=AFTER)
    assert "Completed (ledger time)" in page(pdf, tmp_path, 1)
    second = page(pdf, tmp_path, 2)
    assert "#" in second  # the task lines go on to page 2 ...
    header = next(line for line in second.splitlines() if line.strip())
    assert "Completed (ledger time)" in header and "Earnings" in header  # ... under the header


def parse_svg(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own chart, not untrusted input


def chart_svgs(html: str) -> list[ElementTree.Element]:
    return [parse_svg(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S)]


def test_losses_hang_below_the_line_in_red_with_their_amount():
    svg = parse_svg(str(bar_chart(
        [Bar("Feb", 1713), Bar("Mar", -287)], lambda c: money(c, "en"), "Result")))
    line = svg.find(f"{SVG}line")
    gain, loss = svg.findall(f"{SVG}rect")
    zero = float(line.get("y1"))
    assert float(gain.get("y")) + float(gain.get("height")) == pytest.approx(zero, abs=0.1)
    assert float(loss.get("y")) == pytest.approx(zero, abs=0.1) and loss.get("fill") == LOSS
    texts = {t.text: float(t.get("y")) for t in svg.iter(f"{SVG}text")}
    assert texts["-€2.87"] > zero + float(loss.get("height"))  # its amount under the bar
    assert texts["€17.13"] < zero - float(gain.get("height"))
    assert svg.find(f"{SVG}title").text == "Result: Feb: €17.13; Mar: -€2.87"


def test_the_summary_charts_a_loss_month_as_a_loss(
    example_month, make_board, tmp_path  # noqa: F811 - fixtures
):
    Expense.create(month=MONTH, label="Laptop", amount_cents=2000)
    board = make_board()
    operations.close_and_issue(board, MONTH, now=AFTER)
    april = datetime(2025, 5, 2, 12, 0)
    values = operations.board_values(operations.compute("2025-04"), None, "en")
    history = {bar.label: bar.cents for bar in values.history}
    assert history[MONTH] == 2391 - 2678  # margins less expenses: a loss of €2.87
    assert values.data["totals"]["loss_brought_cents"] == 287
    _, pdf = operations.summary_pdf(board, "2025-04", draft=True, locale="en", now=april)
    assert "-€2.87" in pdftext(pdf, tmp_path)
    chart = chart_svgs(statement_html(values))[0]
    assert [r.get("fill") for r in chart.findall(f"{SVG}rect")].count(LOSS) == 1


def test_chart_labels_print_at_7pt_or_more(example_month):  # noqa: F811 - fixture
    data = operations.compute(MONTH)
    for values in (operations.board_values(data, None, "fr"),
                   operations.member_values(data, example_month["bob"], None, "fr")):
        html = statement_html(values)
        assert "svg.chart { display: block; margin-top: 2mm; }" in html  # never resized
        for svg in chart_svgs(html):
            # Drawn at its own size: one unit is one CSS pixel, 0.75 pt.
            assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('height')}"
            sizes = [float(t.get("font-size")) for t in svg.iter(f"{SVG}text")]
            assert sizes and min(sizes) * 0.75 >= 7, sizes
    assert CHART_FONT * 0.75 >= 7


def structure(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Return every structure element of the PDF's tag tree, depth first."""
    found, stack = [], [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        kids = node.get("/K")
        if kids is None:
            continue
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/MCR":
                if "/S" in kid:
                    found.append(kid)
                stack.append(kid)
    return found


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_statements_are_tagged_for_screen_readers_and_stay_pdf_a_3b(
    identified, example_month, make_board, tmp_path, locale  # noqa: F811 - fixtures
):
    board, bob = make_board(), example_month["bob"]
    bob.locale = locale
    bob.save()
    period = operations.close_and_issue(board, MONTH, now=AFTER)
    _, member = operations.member_pdf(board, MONTH, bob.id, draft=False, now=AFTER)
    # The summary is issued in the coop's language: render it in this one, as issuing would.
    summary = render_statement(operations.board_values(operations._frozen(period), period, locale))
    for pdf in (member, summary):
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            assert doc.Root.MarkInfo.Marked is True
            assert str(doc.Root.Lang) == locale
            assert doc.Root.ViewerPreferences.DisplayDocTitle is True
            assert MONTH[:4] in str(doc.docinfo.Title)
            elements = structure(doc)
            kinds = {str(e.S) for e in elements}
            assert {"/Document", "/H1", "/H2", "/P", "/Table", "/THead", "/TR", "/TH",
                    "/TD", "/Figure"} <= kinds, kinds
            figures = [e for e in elements if e.S == "/Figure"]
            assert figures and all(str(f.Alt) for f in figures)
            meta = doc.open_metadata()
            assert meta["pdfuaid:part"] == "1"
            assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
            assert meta["dc:title"] == str(doc.docinfo.Title)
        path = pdf_file(pdf, tmp_path)
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                              text=True).stdout
        assert re.search(r"^Tagged:\s+yes$", info, re.M)
        assert declares_pdfa_3b(pdf, tmp_path)
        assert attachment(pdf, tmp_path)["month"] == MONTH
    with pikepdf.open(io.BytesIO(member)) as doc:
        (chart,) = [e for e in structure(doc) if e.S == "/Figure"]
        alt = str(chart.Alt)
        assert ("Mar 2025: €131.66" if locale == "en" else "131,66") in plain(alt)


@pytest.fixture
def closed_year(identified, example_month, make_board):  # noqa: F811 - fixtures
    """The worked example's month as the last of fiscal year 2024 (April to March), closed."""
    Parameter.create(key="fiscal_year_start_month", value=4)
    board = make_board()
    operations.close_and_issue(board, MONTH, now=AFTER)
    year_close.close_and_issue(board, 2024)
    return {**example_month, "board": board}


def test_annual_statements_carry_the_coop_the_day_the_year_closed_and_a_number(
    closed_year, tmp_path
):
    board, bob = closed_year["board"], closed_year["bob"]
    (closed,) = [e for e in events_for("fiscal_year:2024") if e.kind == "fiscal_year.closed"]
    issued_on = datetime.fromtimestamp(closed.unix_ns / 1e9, ZoneInfo("Europe/Paris")).date()
    numbers = set()
    for st in AnnualStatement.select():
        _, pdf = year_close.annual_pdf(board, 2024, st.member_id)
        data = attachment(pdf, tmp_path)
        assert data["coop"]["name"] == IDENTITY["COOP_NAME"]
        assert data["number"] == f"FY2024-{st.member_id:04d}"
        assert data["issued_on"] == issued_on.isoformat()
        numbers.add(data["number"])
        text = pdftext(pdf, tmp_path)
        for line in (IDENTITY["COOP_NAME"], IDENTITY["COOP_REGISTRATION"], "75011 Paris",
                     f"Statement no. {data['number']}",
                     f"Issued on {issued_on.strftime('%b')} {issued_on.day}, {issued_on.year}"):
            assert line in text, line
        # Every page's footer names the fiscal year and the number; nothing monthly is left.
        assert text.count(f"Fiscal year 2024 · No. {data['number']}") == text.count("\f")
        assert "the month's totals" not in text and "Month closed at" not in text
        assert text.count("attached to this PDF as statement.json") == 1
    assert len(numbers) == AnnualStatement.select().count() == 3  # one per member, none shared
    _, pdf = year_close.annual_pdf(board, 2024, bob.id)
    assert render_statement(StatementValues.from_data(attachment(pdf, tmp_path))) == pdf


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_annual_statements_are_tagged_like_the_monthly_ones(closed_year, tmp_path, locale):
    board, bob = closed_year["board"], closed_year["bob"]
    bob.locale = locale
    bob.save()
    fiscal_year = year_close.years.closed_year(2024)
    statement = AnnualStatement.get(AnnualStatement.member == bob.id)
    pdf = render_statement(year_close.annual_values(fiscal_year, statement, bob, locale))
    if locale == "en":  # as issued: the same bytes as the stored PDF
        assert pdf == year_close.annual_pdf(board, 2024, bob.id)[1]
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert doc.Root.MarkInfo.Marked is True
        assert str(doc.Root.Lang) == locale
        assert doc.Root.ViewerPreferences.DisplayDocTitle is True
        assert "2024" in str(doc.docinfo.Title)
        kinds = {str(e.S) for e in structure(doc)}
        # The month-by-month table has a header row (repeated on every page it spans).
        assert {"/Document", "/H1", "/H2", "/P", "/Table", "/THead", "/TBody", "/TR", "/TH",
                "/TD"} <= kinds, kinds
        meta = doc.open_metadata()
        assert meta["pdfuaid:part"] == "1"
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
    info = subprocess.run(["pdfinfo", str(pdf_file(pdf, tmp_path))], check=True,
                          capture_output=True, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert declares_pdfa_3b(pdf, tmp_path)
    data = attachment(pdf, tmp_path)
    assert (data["kind"], data["month"], data["fiscal_year"]) == ("annual", "FY2024", 2024)
