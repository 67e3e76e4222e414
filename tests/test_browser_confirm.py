"""In a real Chromium at 390 px, JavaScript off, against gunicorn: the board closes a month
through its confirmation step. The close link leads to a page that says what will happen and
what cannot be undone, with the button and the way back side by side; going back changes
nothing; confirming closes the month and issues its statements. Every page fits the phone."""

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from test_browser_journey import CHROMIUM, _sign_in, served_instance
from test_browser_journey import browser as browser  # noqa: PLC0414 - the shared fixture
from test_browser_journey import server as server  # noqa: PLC0414 - the shared fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
assert served_instance  # the fresh instance the shared server fixture starts
BOARD_EMAIL, PASSWORD = "board@example.org", "bea keeps the books 2026"
PHONE = 390


def _last_month() -> str:
    today = date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _fits(page) -> None:
    page.wait_for_load_state("load")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE, f"{page.url} is {scroll} px wide at {PHONE} px"


def _periods(env) -> int:
    with sqlite3.connect(Path(env["COOP_INSTANCE_DIR"]) / "coop.db") as db:
        return db.execute("SELECT COUNT(*) FROM period").fetchone()[0]


def test_the_board_closes_a_month_through_its_confirmation_at_390_px(server, browser):
    base, env = server
    context = browser.new_context(base_url=base, java_script_enabled=False,
                                  viewport={"width": PHONE, "height": 800})
    board = context.new_page()
    _sign_in(board, BOARD_EMAIL, PASSWORD)
    board.goto("/statements/")
    _fits(board)
    # Last month's hosting bill makes last month the month to close next.
    month = _last_month()
    token = board.locator("input[name=csrf_token]").first.get_attribute("value")
    added = board.request.post(f"/statements/{month}/expenses",
                               form={"csrf_token": token, "label": "Hosting", "amount": "12.00"})
    assert added.ok
    board.goto("/statements/")
    _fits(board)
    assert board.locator(f"#open-{month}").get_by_text("Hosting").count() == 1

    board.click(f"a#close-{month}")
    board.wait_for_load_state()
    _fits(board)
    page = board.content()
    assert "This cannot be undone." in page
    assert f"No expense of {month} can be added or corrected afterwards" in page
    # The action and the way back sit side by side on the phone, both fully visible.
    confirm = board.locator("button#confirm").bounding_box()
    back = board.get_by_role("button", name="Go back without doing it").bounding_box()
    for box in (confirm, back):
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE
    board.get_by_role("button", name="Go back without doing it").click()
    assert board.url.endswith("/statements/")
    assert _periods(env) == 0

    board.click(f"a#close-{month}")
    board.wait_for_load_state()
    board.click("button#confirm")
    board.wait_for_load_state()
    _fits(board)
    assert f"{month} is closed" in board.content()
    assert _periods(env) == 1
    board.goto("/statements/")
    _fits(board)
    assert board.locator(f"#closed-{month}").count() == 1
    assert board.locator(f"a#close-{month}").count() == 0
    context.close()
