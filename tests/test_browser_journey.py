"""In a real Chromium against the app served by gunicorn: a client registers and posts a task,
an applicant joins and the board admits them, the member claims and delivers a file, the client
accepts, downloads the proof bundle, and `python -m ledger verify-bundle` checks it offline.
Also: the language switch, and that no page needs JavaScript (it is turned off)."""

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
COOP = [str(Path(sys.executable).parent / "coop")]
BOARD_EMAIL, PASSWORD = "board@example.org", "bea keeps the books 2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_instance(tmp_path_factory, board_email, password, serve):
    """Initialise a fresh instance with a board member and serve it; yield (base URL, env).

    serve(port) gives the server's command line (gunicorn, or `coop serve`).
    """
    instance = tmp_path_factory.mktemp("instance")
    env = dict(os.environ, COOP_INSTANCE_DIR=str(instance), COOP_NTP_SERVERS="")
    env.pop("COOP_DATABASE_URL", None)
    subprocess.run([*COOP, "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*COOP, "user", "create", "--email", board_email, "--name", "Bea", "--role", "board"],
        env=env, check=True, capture_output=True, input=f"{password}\n{password}\n", text=True,
    )
    port = _free_port()
    process = subprocess.Popen(
        serve(port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=1)  # noqa: S310 - loopback only
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        process.wait()
        pytest.fail("the server did not start: " + process.stderr.read().decode()[-2000:])
    try:
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Initialise a fresh instance and serve it with gunicorn (two workers)."""
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "coop.wsgi:app"]
    with served_instance(
        tmp_path_factory, BOARD_EMAIL, PASSWORD,
        lambda port: [*gunicorn, "--bind", f"127.0.0.1:{port}"],
    ) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield launched
        launched.close()


def _page(browser, base):
    context = browser.new_context(base_url=base, java_script_enabled=False, accept_downloads=True)
    return context.new_page()


def _sign_in(page, email, password):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]:has-text('Sign in')")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]


def _new_client(page, name, email, password):
    """Register a client and sign them in."""
    page.goto("/register")
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.fill("input[name=confirm]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/register" not in page.url, page.content()[-3000:]
    # Registration never signs in (it answers the same for a taken address): sign in now.
    _sign_in(page, email, password)


def _fill_fixed_price_task(page, title, description, price):
    """Fill the post-task form for an hour of photo clipping at a fixed price, due in two days;
    return the deadline as typed."""
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", description)
    page.select_option("select[name=category]", "photo_clipping")
    page.fill("input[name=estimated_minutes]", "60")
    deadline = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.fill("input[name=deadline]", deadline)
    page.fill("input[name=price]", price)
    return deadline


def test_from_posting_to_an_offline_verified_bundle(server, browser, tmp_path):
    base, _env = server

    client = _page(browser, base)
    _new_client(client, "Maison Verte", "shop@example.org", "green house 2026 pw")
    client.goto("/tasks/new")
    deadline = _fill_fixed_price_task(client, "Clip 10 product photos", "White background, PNG.",
                                      price="5.00")  # below the €12/h floor
    client.click("main button[type=submit]")
    client.wait_for_load_state()
    assert "12.00" in client.content()  # the refusal states the minimum
    client.fill("input[name=deadline]", deadline)
    client.fill("input[name=price]", "15.00")
    client.click("main button[type=submit]")
    client.wait_for_load_state()
    task_url = client.url
    assert "/tasks/" in task_url and "Clip 10 product photos" in client.content()

    member = _page(browser, base)
    member.goto("/apply")
    member.fill("input[name=name]", "Farid")
    member.fill("input[name=email]", "farid@example.org")
    member.fill("input[name=password]", "retouching since 2021")
    member.fill("input[name=confirm]", "retouching since 2021")
    member.fill("textarea[name=note]", "Photo retouching for five years.")
    member.click("main button[type=submit]")
    member.wait_for_load_state()
    _sign_in(member, "farid@example.org", "retouching since 2021")
    member.goto("/settings")
    assert "waiting for the board" in member.content()

    board = _page(browser, base)
    _sign_in(board, BOARD_EMAIL, PASSWORD)
    board.goto("/board/applications")
    board.click("article:has-text('Farid') a:has-text('Admit')")
    board.wait_for_load_state()
    board.click("button#confirm")
    board.wait_for_load_state()

    member.goto("/tasks")
    member.click("text=Clip 10 product photos")
    member.wait_for_load_state()
    member.click("button:has-text('Claim this task')")
    member.wait_for_load_state()
    work = tmp_path / "clipped.png"
    work.write_bytes(b"\x89PNG\r\n\x1a\n" + b"clipped pixels" * 100)
    member.goto(task_url)
    member.set_input_files("input[name=files]", str(work))
    member.fill("input[name=minutes_spent]", "60")
    member.click("section.delivery-panel button[type=submit]")
    member.wait_for_load_state()
    assert "SHA-256" in member.content() or "sha256" in member.content().lower()

    client.goto(task_url)
    client.click("button:has-text('Accept and pay')")
    client.wait_for_load_state()
    client.goto(task_url)
    assert "Ledger entry #" in client.content()
    with client.expect_download() as download:
        client.click("text=Download proof bundle")
        client.wait_for_load_state()
    bundle_path = tmp_path / "bundle.json"
    download.value.save_as(bundle_path)
    json.loads(bundle_path.read_text())

    key = urllib.request.urlopen(base + "/ledger/key").read().decode().strip()  # noqa: S310
    verified = subprocess.run(
        [sys.executable, "-m", "ledger", "verify-bundle", str(bundle_path), "--key", key,
         "--file", str(work)],
        capture_output=True, text=True, timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # On a phone the receipt, its details fold opened, and /ledger fit without scrolling sideways.
    client.set_viewport_size({"width": 390, "height": 800})
    client.goto(task_url)
    client.click("details.receipt-details summary")
    assert client.locator("details.receipt-details[open]").count() == 1
    assert client.evaluate("document.documentElement.scrollWidth") <= 390
    client.goto("/ledger")
    assert client.evaluate("document.documentElement.scrollWidth") <= 390

    member.goto("/my-work")
    assert "13.80" in member.content()  # €15.00 less the 8% margin


def test_language_switch_without_javascript(server, browser):
    base, _env = server
    page = _page(browser, base)
    page.goto("/")
    page.click("button:has-text('Français')")
    page.wait_for_load_state()
    assert "Se connecter" in page.content()
    page.click("button:has-text('English')")
    page.wait_for_load_state()
    assert "Sign in" in page.content()


def test_notifications_tell_of_an_application_an_award_and_a_rejection(server, browser, tmp_path):
    """Without JavaScript: the board is told of an application, the member of an award and of
    a rejection, each counted in the navigation until opened (a button) or all marked read."""
    base, _env = server
    board = _page(browser, base)
    _sign_in(board, BOARD_EMAIL, PASSWORD)
    member = _page(browser, base)
    member.goto("/apply")
    member.fill("input[name=name]", "Gina")
    member.fill("input[name=email]", "gina@example.org")
    member.fill("input[name=password]", "labelling all day 2026")
    member.fill("input[name=confirm]", "labelling all day 2026")
    member.fill("textarea[name=note]", "Image labelling.")
    member.click("main button[type=submit]")
    member.wait_for_load_state()
    board.goto("/notifications")
    board.click("button:has-text('Gina applied to join the coop.')")
    board.wait_for_load_state()
    assert board.url.endswith("/board/applications")
    board.click("article:has-text('Gina') a:has-text('Admit')")
    board.wait_for_load_state()
    board.click("button#confirm")
    board.wait_for_load_state()

    client = _page(browser, base)
    _new_client(client, "Atelier Bleu", "bleu@example.org", "blue workshop 2026 pw")
    client.goto("/tasks/new")
    client.fill("input[name=title]", "Label 20 street photos")
    client.fill("textarea[name=description]", "Boxes around bicycles.")
    client.select_option("select[name=category]", "image_labelling")
    client.fill("input[name=estimated_minutes]", "60")
    soon = datetime.now()
    client.fill("input[name=deadline]", (soon + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    client.check("input[name=pricing][value=bids]")
    client.fill("input[name=budget]", "20.00")
    client.fill("input[name=bidding_deadline]",
                (soon + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    client.click("main button[type=submit]")
    client.wait_for_load_state()
    task_url = client.url
    assert "/tasks/" in task_url, client.content()[-3000:]

    _sign_in(member, "gina@example.org", "labelling all day 2026")
    member.goto(task_url)
    member.fill("input[name=amount]", "18.00")
    member.fill("input[name=eta_hours]", "5")
    member.click("button:has-text('Send the bid')")
    member.wait_for_load_state()
    client.goto(task_url)
    client.click("a:has-text('Award')")
    client.wait_for_load_state()
    assert "You cannot choose another bid afterwards." in client.content()
    client.click("button#confirm")
    client.wait_for_load_state()

    member.goto("/my-work")
    assert member.locator("ul.nav-wide mark").inner_text() == "1"
    member.goto("/notifications")
    assert "Your bid won: “Label 20 street photos” is yours for €18.00." in member.content()

    work = tmp_path / "boxes.csv"
    work.write_text("bike,1 2 3 4\n")
    member.goto(task_url)
    member.set_input_files("input[name=files]", str(work))
    member.fill("input[name=minutes_spent]", "60")
    member.click("section.delivery-panel button[type=submit]")
    member.wait_for_load_state()
    client.goto(task_url)
    client.click("summary:has-text('Reject')")
    client.wait_for_load_state()
    client.check("input[name=category][value=incomplete]")
    client.fill("textarea[name=reason]", "Half of the bicycles have no box around them.")
    client.click("form button:has-text('Reject')")
    client.wait_for_load_state()

    member.goto("/my-work")
    assert member.locator("ul.nav-wide mark").inner_text() == "2"
    member.goto("/notifications")
    assert "The client rejected your delivery for “Label 20 street photos”" in member.content()
    member.click("button:has-text('The client rejected your delivery')")
    member.wait_for_load_state()
    assert member.url.endswith(task_url.removeprefix(base))
    assert member.locator("ul.nav-wide mark").inner_text() == "1"
    member.goto("/notifications")
    member.click("button:has-text('Mark all read')")
    member.wait_for_load_state()
    assert member.locator("ul.nav-wide mark").count() == 0


PHONE = 390


def _fits_the_phone(page):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE, f"{page.url} is {scroll} px wide at {PHONE} px"


def test_a_refused_post_keeps_its_file_at_390_px(server, browser, tmp_path):
    """Without JavaScript, on a phone: only the chosen pricing mode's fields show; a post
    refused for its price keeps the chosen file (no need to choose it again) and shows the
    least price; the corrected post attaches the file."""
    base, env = server
    context = browser.new_context(base_url=base, java_script_enabled=False,
                                  viewport={"width": PHONE, "height": 800})
    client = context.new_page()
    _new_client(client, "Studio Lumen", "lumen@example.org", "light and shadow 2026")
    client.goto("/tasks/new")
    _fits_the_phone(client)
    assert client.locator("input[name=price]").is_visible()
    assert client.locator("input[name=budget]").is_hidden()
    client.check("input[name=pricing][value=bids]")
    assert client.locator("input[name=price]").is_hidden()
    assert client.locator("input[name=budget]").is_visible()
    client.check("input[name=pricing][value=fixed]")

    brief = tmp_path / "brief-for-the-retouching-of-forty-catalogue-photos.pdf"
    brief.write_bytes(b"%PDF-1.4 forty photos, white background\n")
    _fill_fixed_price_task(client, "Retouch 40 catalogue photos", "Remove dust, even the light.",
                           price="5.00")  # below the €12/h floor
    client.set_input_files("input[name=attachments]", str(brief))
    client.click("main button[type=submit]")
    client.wait_for_load_state()
    _fits_the_phone(client)
    assert "must be at least €13.04" in client.content()
    assert client.locator(".mode-fixed output.minimum-pay").inner_text() == "€13.04"
    assert client.locator(".kept-uploads li").inner_text().startswith(brief.name)

    client.fill("input[name=price]", "13.04")
    client.click("main button[type=submit]")
    client.wait_for_load_state()
    assert "/tasks/" in client.url and "/new" not in client.url, client.content()[-3000:]
    assert client.get_by_text(brief.name).count() == 1
    with sqlite3.connect(Path(env["COOP_INSTANCE_DIR"]) / "coop.db") as db:
        attached = db.execute(
            "SELECT a.filename, a.sha256 FROM task_attachment a JOIN task t ON t.id = a.task_id"
            " WHERE t.title = 'Retouch 40 catalogue photos'"
        ).fetchall()
    assert attached == [(brief.name, hashlib.sha256(brief.read_bytes()).hexdigest())]


def test_the_least_price_follows_the_minutes_typed(server, browser):
    """With JavaScript: task-form.js shows, for every number of minutes typed, the least
    price the server accepts (coop.money), formatted as the server formats it in English and
    in French."""
    from coop.formats import money
    from coop.money import minimum_gross_price

    base, _env = server
    page = browser.new_context(base_url=base).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    _new_client(page, "Atelier Prix", "prix@example.org", "prices by the minute 26")
    for lang, minutes_typed in (("en", [*range(1, 121), 241, 479, 1000, 4799, 4800]),
                                ("fr", [1, 7, 60, 4800])):
        if lang == "fr":
            page.click("button:has-text('Français')")
            page.wait_for_load_state()
        page.goto("/tasks/new")
        shown = page.locator(".mode-fixed output.minimum-pay")
        for minutes in minutes_typed:
            page.fill("input[name=estimated_minutes]", str(minutes))
            least = minimum_gross_price(1200, 800, minutes * 60)
            assert shown.inner_text() == money(least, lang), (lang, minutes)
        page.fill("input[name=estimated_minutes]", "")
        assert shown.inner_text() == page.locator("output.minimum-pay").first.get_attribute(
            "data-empty")
    assert errors == []
