"""In a real Chromium at 390 px, JavaScript off, against gunicorn: the board closes a fiscal
year through its confirmation step. The board sets the fiscal year to start this month (so
last month ends one), closes last month, then closes the year from its page: the confirmation
says what is final, going back changes nothing, confirming freezes the year and queues its
annual statements (no worker runs here, so the page shows the issuing waiting). Every page
fits the phone."""

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from test_browser_confirm import BOARD_EMAIL, PASSWORD, PHONE, _fits, _last_month
from test_browser_journey import CHROMIUM, _sign_in, served_instance
from test_browser_journey import browser as browser  # noqa: PLC0414 - the shared fixture
from test_browser_journey import server as server  # noqa: PLC0414 - the shared fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
assert served_instance  # the fresh instance the shared server fixture starts


def _count(env, table: str) -> int:
    with sqlite3.connect(Path(env["COOP_INSTANCE_DIR"]) / "coop.db") as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 - ours


def _hold_capital(env, email: str, cents: int) -> None:
    """Give the board member capital held since before the year (no page backdates a
    subscription), so the year has an annual statement to issue."""
    with sqlite3.connect(Path(env["COOP_INSTANCE_DIR"]) / "coop.db") as db:
        db.execute('UPDATE "user" SET capital_cents = ? WHERE email = ?', (cents, email))


def test_the_board_closes_a_fiscal_year_through_its_confirmation_at_390_px(server, browser):
    base, env = server
    context = browser.new_context(base_url=base, java_script_enabled=False,
                                  viewport={"width": PHONE, "height": 800})
    board = context.new_page()
    _sign_in(board, BOARD_EMAIL, PASSWORD)

    # The fiscal year starts this month: last month is the last of the year before.
    board.goto("/board/parameters")
    board.fill("input[name=fiscal_year_start_month]", str(date.today().month))
    board.click("button:has-text('Save the parameters')")
    board.wait_for_load_state()
    month = _last_month()
    year = date.today().year - 1

    _hold_capital(env, BOARD_EMAIL, 10000)
    board.goto("/statements/")
    token = board.locator("input[name=csrf_token]").first.get_attribute("value")
    added = board.request.post(f"/statements/{month}/expenses",
                               form={"csrf_token": token, "label": "Hosting", "amount": "12.00"})
    assert added.ok
    board.goto("/statements/")
    board.click(f"a#close-{month}")
    board.wait_for_load_state()
    board.click("button#confirm")
    board.wait_for_load_state()
    assert _count(env, "period") == 1

    board.goto(f"/statements/years/{year}")
    _fits(board)
    assert "The year's result if it closed now (preview)" in board.content()
    board.click("a#close-year")
    board.wait_for_load_state()
    _fits(board)
    page = board.content()
    assert "This cannot be undone." in page and "The year's figures are final" in page
    confirm = board.locator("button#confirm").bounding_box()
    back = board.get_by_role("button", name="Go back without doing it").bounding_box()
    for box in (confirm, back):
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE
    board.get_by_role("button", name="Go back without doing it").click()
    assert board.url.endswith(f"/statements/years/{year}")
    assert _count(env, "fiscal_year") == 0

    board.click("a#close-year")
    board.wait_for_load_state()
    board.click("button#confirm")
    board.wait_for_load_state()
    _fits(board)
    assert board.url.endswith(f"/statements/years/{year}")
    page = board.content()
    assert f"The fiscal year {year} is closed" in page and "these figures are final" in page
    assert _count(env, "fiscal_year") == 1
    assert board.locator("a#close-year").count() == 0
    # The issuing waits for a worker (none runs here): the page says how far it got.
    assert _count(env, "annual_statement") == 1
    assert "0 of 1 annual statements issued." in page
    assert board.locator("#issuing progress").count() == 1
    context.close()
