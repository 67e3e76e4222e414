"""In a real Chromium, JavaScript off, against gunicorn, each on a 390 px phone: a client
reports a member's answers as a bot; the member reads the finding and answers the board; the
board reads both and upholds it through the confirmation page; the member's and the client's
pages say the answers are voided and the pay taken back. Every page visited is no wider than
the viewport at 390 px and at 1280 px.

The project and the member's two accepted answers are made by the operations in a setup
script (test_browser_projects.py walks those pages)."""

from pathlib import Path

import pytest
from test_browser_journey import CHROMIUM, _sign_in
from test_browser_journey import browser as browser  # noqa: PLC0414 - the shared fixture
from test_browser_projects import DESKTOP, PHONE, Visitor
from test_browser_qualifications import (
    BOARD_EMAIL,
    CLIENT_EMAIL,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    PASSWORD,
    served_with,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
REASON = "Every answer came within a second of the item, the same label every time."

SETUP = f"""
import io
from datetime import timedelta

from coop import create_app
from coop.models import User, utcnow
from coop.projects import operations as projects

TEMPLATE = {{"kind": "classify", "text_field": "comment", "labels": ["keep", "remove"]}}
app = create_app()
with app.test_request_context():
    client = User.get(User.email == {CLIENT_EMAIL!r})
    member = User.get(User.email == {MEMBER_EMAIL!r})
    project = projects.create_project(
        client, title="Moderate the forum", instructions="Keep opinions; remove threats.",
        template=TEMPLATE, price_cents=20, estimated_seconds=20,
        deadline=utcnow() + timedelta(days=3), budget_cents=1000)
    items = b"external_id,comment\\nc1,Bel article\\nc2,Tres utile\\nc3,Merci\\n"
    projects.upload_items(client, project, io.BytesIO(items), "items.csv")
    projects.publish_project(client, project)
    for _ in range(2):
        lease = projects.next_assignment(member, project)
        projects.submit_answer(member, lease, {{"label": ["keep"]}})
    projects.accept_answers(client, project)
    print("MADE", project.id, member.pseudonym)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A client's project with two accepted answers of a member."""
    with served_with(tmp_path_factory, SETUP) as (base, printed):
        line = next(x for x in printed.splitlines() if x.startswith("MADE "))
        _made, project_id, pseudonym = line.split()
        yield base, int(project_id), pseudonym


def _submit(page, button: str) -> None:
    with page.expect_navigation():
        page.click(f"main button:has-text('{button}')")
    page.wait_for_load_state()


def test_a_fraud_finding_from_report_to_decision(server, browser):
    base, project_id, pseudonym = server
    client = Visitor(browser, base, PHONE)
    _sign_in(client.page, CLIENT_EMAIL, MEMBER_PASSWORD)
    client.page.goto(f"/projects/{project_id}/quality")
    client.fits()
    client.page.click("text=Fraud reports")
    client.page.wait_for_load_state()
    client.fits()
    client.page.fill("input[name=member]", pseudonym)
    client.page.check("input[name=kind][value=bot]")
    client.page.fill("textarea[name=reason]", REASON)
    _submit(client.page, "Send the report")
    client.fits()
    assert "waiting for the board" in client.page.content()

    member = Visitor(browser, base, PHONE)
    _sign_in(member.page, MEMBER_EMAIL, MEMBER_PASSWORD)
    member.page.goto("/fraud-findings")
    member.fits()
    assert REASON in member.page.content()
    member.page.click("main a:has-text('Open')")
    member.page.wait_for_load_state()
    member.fits()
    member.page.fill("textarea[name=text]", "I read and answered each comment myself.")
    _submit(member.page, "Send my answer")
    member.fits()

    board = Visitor(browser, base, PHONE)
    _sign_in(board.page, BOARD_EMAIL, PASSWORD)
    board.page.goto("/board/fraud-findings")
    board.fits()
    assert "each comment myself" in board.page.content()
    board.page.click("main a:has-text('Decide')")
    board.page.wait_for_load_state()
    board.fits()
    assert "2 answers of the member" in board.page.content()
    board.page.check("input[name=decision][value=upheld]")
    board.page.fill("textarea[name=note]", "Two answers in two seconds, the same label.")
    with board.page.expect_navigation():
        board.page.click("button#confirm")
    board.page.wait_for_load_state()
    board.fits()
    assert "No finding waits for the board." in board.page.content()

    member.page.goto("/fraud-findings")
    member.fits()
    assert "2 answers voided" in member.page.content()
    client.page.goto(f"/projects/{project_id}/fraud")
    client.fits()
    assert "taken back" in client.page.content()

    for visitor in (client, member, board):
        visitor.revisit(DESKTOP)
        visitor.context.close()
