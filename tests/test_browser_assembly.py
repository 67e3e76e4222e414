"""In a real Chromium on a 390 px phone, JavaScript off, against gunicorn: the board proposes a
higher pay floor to the general assembly, members are told, one votes against then changes
their mind, another votes for; once the vote has closed the board counts it, the result is on
the ledger, each voter's page says their ballot was counted, and the new floor is in force.
Every page visited fits the phone's width."""

import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_browser_journey import CHROMIUM, COOP, _sign_in, served_instance
from test_browser_journey import browser as browser  # noqa: PLC0414 - the shared fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
BOARD_EMAIL, PASSWORD = "board@example.org", "bea keeps the books 2026"
MEMBERS = {"alice@example.org": "Alice", "bruno@example.org": "Bruno", "chloe@example.org": "Chloe"}
MEMBER_PASSWORD = "one member one vote 2026"
PHONE = 390


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve a fresh instance with gunicorn; add three members from the command line."""
    import subprocess

    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "coop.wsgi:app"]
    with served_instance(
        tmp_path_factory, BOARD_EMAIL, PASSWORD,
        lambda port: [*gunicorn, "--bind", f"127.0.0.1:{port}"],
    ) as (base, env):
        for email, name in MEMBERS.items():
            subprocess.run(
                [*COOP, "user", "create", "--email", email, "--name", name, "--role", "member"],
                env=env, check=True, capture_output=True, text=True,
                input=f"{MEMBER_PASSWORD}\n{MEMBER_PASSWORD}\n",
            )
        yield base, Path(env["COOP_INSTANCE_DIR"]) / "coop.db"


def _phone(browser, base):
    context = browser.new_context(base_url=base, java_script_enabled=False,
                                  viewport={"width": PHONE, "height": 800})
    return context.new_page()


def _fits(page):
    page.wait_for_load_state("load")  # measured with its style sheets applied
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE, f"{page.url} is {scroll} px wide at {PHONE} px"


def _paris(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")


def test_a_general_assembly_vote_from_proposal_to_result(server, browser):
    base, database = server
    board = _phone(browser, base)
    _sign_in(board, BOARD_EMAIL, PASSWORD)
    board.goto("/board/")
    board.click("text=General assembly: propose a vote")
    board.wait_for_load_state()
    _fits(board)
    board.select_option("select[name=kind]", "parameters")
    board.fill("input[name=title]", "Raise the pay floor to €13")
    board.fill("input[name=closes_at]", _paris(datetime.now(UTC) + timedelta(days=2)))
    board.fill("input[name=pay_floor_cents_per_hour]", "13.00")
    board.click("main button:has-text('Propose')")
    board.wait_for_load_state()
    assert "/votes/" in board.url, board.content()[-3000:]
    assert "€13.00" in board.content() and "€12.00" in board.content()
    _fits(board)

    pages = {}
    for email in MEMBERS:
        page = pages[email] = _phone(browser, base)
        _sign_in(page, email, MEMBER_PASSWORD)
    chloe = pages["chloe@example.org"]
    chloe.goto("/notifications")
    assert "The general assembly votes on “Raise the pay floor to €13”" in chloe.content()
    _fits(chloe)

    alice = pages["alice@example.org"]
    alice.goto("/votes")
    assert "You have not voted yet." in alice.content()
    _fits(alice)
    alice.click("text=Raise the pay floor to €13")
    alice.wait_for_load_state()
    alice.check("input[name=choice][value=no]")
    alice.click("main button:has-text('Cast my ballot')")
    alice.wait_for_load_state()
    assert "Your ballot is recorded" in alice.content()
    alice.check("input[name=choice][value=yes]")
    alice.click("main button:has-text('Change my ballot')")
    alice.wait_for_load_state()
    assert "You voted: For" in alice.content()
    commitment = alice.inner_text("#commitment").strip()
    _fits(alice)
    vote_url = alice.url

    bruno = pages["bruno@example.org"]
    bruno.goto(vote_url)
    bruno.check("input[name=choice][value=yes]")
    bruno.click("main button:has-text('Cast my ballot')")
    bruno.wait_for_load_state()
    assert "You voted: For" in bruno.content()

    # Two days pass: the closing time is moved into the past rather than waited for.
    with sqlite3.connect(database) as db:
        past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
        db.execute("UPDATE vote SET closes_at = ?", (past,))
    alice.goto(vote_url)
    assert "waiting for the count" in alice.content()
    assert "Change my ballot" not in alice.content()

    board.goto(vote_url)
    board.click("main button:has-text('Count the votes')")
    board.wait_for_load_state()
    content = board.content()
    assert "The votes are counted" in content and "Passed" in content
    assert commitment not in content  # the board's page shows no member's ballot
    _fits(board)

    alice.goto(vote_url)
    assert "Your ballot was counted" in alice.content()
    assert commitment in alice.content()
    _fits(alice)
    chloe.goto("/votes")
    assert "2 for, 0 against, 0 abstaining" in chloe.content()
    _fits(chloe)
    board.goto("/board/parameters")
    assert board.input_value("input[name=pay_floor_cents_per_hour]") == "13.00"
