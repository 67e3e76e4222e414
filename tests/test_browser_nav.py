"""In a real Chromium at 1280 px, in French: the navigation of the busiest role (a board
member, who also sees every member link) stays on one line, and nothing on the page is wider
than the viewport. Roles read in the reader's language on the settings page."""

from pathlib import Path

import pytest
from test_browser_journey import CHROMIUM, COOP, served_instance
from test_browser_journey import browser as browser  # noqa: PLC0414 - the shared fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
BOARD_EMAIL, PASSWORD = "board@example.org", "bea keeps the books 2026"
DESKTOP = 1280


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_instance(
        tmp_path_factory, BOARD_EMAIL, PASSWORD,
        lambda port: [*COOP, "serve", "--port", str(port), "--threads", "4"],
    ) as (base, _env):
        yield base


def nav_rows(page) -> int:
    """How many lines the wide navigation's items take: a new line starts below the last."""
    boxes = page.eval_on_selector_all(
        "header nav ul.nav-wide > li",
        "items => items.map(i => i.getBoundingClientRect()).map(b => [b.top, b.bottom])",
    )
    rows, bottom = 0, None
    for top, low in sorted(boxes):
        if bottom is None or top >= bottom:
            rows, bottom = rows + 1, low
        else:
            bottom = max(bottom, low)
    return rows


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_the_navigation_fits_on_one_line_at_1280_px(server, browser, locale):
    context = browser.new_context(base_url=server, java_script_enabled=False, locale=locale,
                                  viewport={"width": DESKTOP, "height": 800})
    page = context.new_page()
    try:
        page.goto("/login", wait_until="load")
        page.fill("input[name=email]", BOARD_EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        for path in ("/tasks", "/board", "/settings", "/"):
            page.goto(path, wait_until="load")
            assert page.get_attribute("html", "lang") == locale[:2], path
            assert page.is_visible("header nav ul.nav-wide"), path
            links = page.eval_on_selector_all("header nav ul.nav-wide > li", "l => l.length")
            assert links >= 9, path  # the board member's full navigation
            assert nav_rows(page) == 1, f"{path}: the navigation takes {nav_rows(page)} lines"
            height = page.eval_on_selector("header nav", "n => n.getBoundingClientRect().height")
            assert height < 80, f"{path}: the navigation is {height} px tall"
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= DESKTOP, f"{path} is {scroll} px wide"
    finally:
        context.close()
