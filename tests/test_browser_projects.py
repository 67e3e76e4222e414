"""In a real Chromium, JavaScript off, against `coop serve` (gunicorn): a client creates a
sensitive moderation project from a 50-row CSV, previews and publishes it; a member on a 390 px
phone answers 10 items with the keyboard alone (access keys on the labels, the reason and the
send button) and skips one as distressing; the client rejects one answer with a reason, accepts
the rest in bulk, downloads the results and their proof, and `python -m ledger verify-results`
passes on them and names the row on a copy with one answer changed. Every page either visited
is no wider than the viewport at 390 px and at 1280 px."""

import csv
import io
import re
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_browser_journey import CHROMIUM, COOP, _sign_in, served_instance
from test_browser_journey import browser as browser  # noqa: PLC0414 - the shared fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
BOARD_EMAIL, PASSWORD = "board@example.org", "bea keeps the books 2026"
CLIENT_EMAIL, CLIENT_PASSWORD = "news@example.org", "moderation desk at night"
MEMBER_EMAIL, MEMBER_PASSWORD = "alice@example.org", "forums for six long years"
PHONE, DESKTOP = 390, 1280
# Items 1-10 alternate keep and remove; item 3 is the one the member finds distressing.
DISTRESSING = "c-003"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Initialise a fresh instance and serve it with `coop serve` (gunicorn), as in deployment."""
    with served_instance(
        tmp_path_factory, BOARD_EMAIL, PASSWORD,
        lambda port: [*COOP, "serve", "--port", str(port), "--threads", "4"],
    ) as (base, _env):
        yield base


class Visitor:
    """A browser context that remembers the pages it saw and checks each fits the viewport."""

    def __init__(self, chromium, base: str, width: int):
        self.context = chromium.new_context(
            base_url=base, java_script_enabled=False, accept_downloads=True,
            viewport={"width": width, "height": 800},
        )
        self.page = self.context.new_page()
        self.base = base
        self.seen: list[str] = []

    def fits(self) -> None:
        page = self.page
        page.wait_for_load_state("load")
        width = page.viewport_size["width"]
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{page.url} is {scroll} px wide at {width} px"
        path = page.url.removeprefix(self.base)
        # A page answering a POST is seen again through the GET that shows the same thing.
        path = re.sub(r"^/assignments/\d+/(answer|skip)$", "", path)
        if path and path not in self.seen:
            self.seen.append(path)

    def revisit(self, width: int) -> None:
        self.page.set_viewport_size({"width": width, "height": 800})
        for path in list(self.seen):
            self.page.goto(path)
            self.fits()


def _comments_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "comment"])
        for n in range(1, 51):
            text = f"Commentaire {n} : merci pour cet article, très clair et bien documenté."
            if n == 3:
                text = "Je sais où tu habites et je viendrai te faire payer cet article."
            writer.writerow([f"c-{n:03d}", text])


def _access_key(page, char: str) -> None:
    """Press Alt+char as a keyboard does: a key-down event that carries the key's text.

    Playwright's press("Alt+…") sends no text with a modifier, and Chromium matches access keys
    on the text, so the event goes through the DevTools protocol as the real keyboard sends it.
    """
    cdp = page.context.new_cdp_session(page)
    code = f"Digit{char}" if char.isdigit() else f"Key{char.upper()}"
    key = {"modifiers": 1, "key": char, "code": code, "windowsVirtualKeyCode": ord(char.upper())}
    text = {"text": char, "unmodifiedText": char}
    cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", **text, **key})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})
    cdp.detach()


def _answer_with_keyboard(page, remove: bool) -> None:
    """Choose a label by its access key, type a reason if needed, send with Alt+S."""
    hints = page.locator("form kbd").all_inner_texts()  # the page names the keys it uses
    assert {"Alt+1", "Alt+2", "Alt+R", "Alt+S"} <= set(hints), hints
    _access_key(page, "2" if remove else "1")
    checked = page.locator("input[name=label]:checked")
    assert checked.get_attribute("value") == ("remove" if remove else "keep")
    if remove:
        _access_key(page, "r")
        assert page.evaluate("document.activeElement.name") == "reason"
        page.keyboard.type("Publicité déguisée.")
    with page.expect_navigation():
        _access_key(page, "s")


def _skip_with_keyboard(page) -> None:
    page.focus("summary:has-text('Skip this item')")
    page.keyboard.press("Enter")
    page.focus("input[name=reason][value=distressing]")
    page.keyboard.press("Space")
    assert page.locator("input[name=reason][value=distressing]").is_checked()
    page.keyboard.press("Tab")  # a radio group is one tab stop: on to the Skip button
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip"
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _download(page, link: str, to: Path) -> Path:
    with page.expect_download() as download:
        page.click(f"#results a:has-text('{link}')")
        page.wait_for_load_state()
    download.value.save_as(to)
    return to


def _verify(results: Path, proof: Path, key: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ledger", "verify-results", str(results), str(proof),
         "--key", key],
        capture_output=True, text=True, timeout=60,
    )


def test_moderation_project_from_csv_to_verified_results(server, browser, tmp_path):
    base = server
    client = Visitor(browser, base, DESKTOP)
    desk = client.page
    desk.goto("/register")
    client.fits()
    desk.fill("input[name=name]", "Le Quotidien du Sud")
    desk.fill("input[name=email]", CLIENT_EMAIL)
    desk.fill("input[name=password]", CLIENT_PASSWORD)
    desk.fill("input[name=confirm]", CLIENT_PASSWORD)
    desk.click("main button[type=submit]")
    desk.wait_for_load_state()
    client.fits()
    _sign_in(desk, CLIENT_EMAIL, CLIENT_PASSWORD)
    client.fits()

    desk.goto("/projects/new")
    client.fits()
    desk.fill("input[name=title]", "Modérer les commentaires")
    desk.fill("textarea[name=instructions]", "Gardez les avis ; supprimez menaces et insultes.")
    desk.select_option("select[name=kind]", "classify")
    desk.fill(
        "textarea[name=config]",
        '{"text_field": "comment", "labels": ["keep", "remove"], "reason_for": ["remove"]}',
    )
    desk.fill("input[name=price]", "0.10")
    desk.fill("input[name=estimated_seconds]", "20")
    desk.fill("input[name=overlap]", "1")
    desk.fill("input[name=budget]", "10.00")
    deadline = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    desk.fill("input[name=deadline]", deadline)
    desk.check("input[name=sensitive]")
    desk.fill("input[name=content_note]", "Menaces et insultes.")
    desk.click("main button:has-text('Create the draft')")
    desk.wait_for_load_state()
    client.fits()
    assert re.search(r"/projects/\d+$", desk.url), desk.content()[-3000:]
    project_path = desk.url.removeprefix(base)

    items = tmp_path / "comments.csv"
    _comments_csv(items)
    desk.set_input_files("input[name=items]", str(items))
    desk.click("main button:has-text('Upload')")
    desk.wait_for_load_state()
    client.fits()
    assert "50 items imported" in desk.content()
    desk.click("text=Preview as a member sees it")
    desk.wait_for_load_state()
    client.fits()
    assert "Commentaire 1 :" in desk.content()
    assert desk.locator("button:has-text('Send and next')").is_disabled()
    desk.goto(project_path)
    client.fits()
    desk.click("main button:has-text('Publish')")
    desk.wait_for_load_state()
    client.fits()
    assert "The project is published." in desk.content()

    phone = Visitor(browser, base, PHONE)
    member = phone.page
    member.goto("/apply")
    phone.fits()
    member.fill("input[name=name]", "Alice Moreau")
    member.fill("input[name=email]", MEMBER_EMAIL)
    member.fill("input[name=password]", MEMBER_PASSWORD)
    member.fill("input[name=confirm]", MEMBER_PASSWORD)
    member.fill("textarea[name=note]", "Six years moderating forums.")
    member.check("input[name=sensitive_opt_in]")
    member.click("main button[type=submit]")
    member.wait_for_load_state()
    phone.fits()
    _sign_in(member, MEMBER_EMAIL, MEMBER_PASSWORD)
    phone.fits()
    board = browser.new_context(base_url=base, java_script_enabled=False).new_page()
    _sign_in(board, BOARD_EMAIL, PASSWORD)
    board.goto("/board/applications")
    board.click("a:has-text('Admit')")
    board.wait_for_load_state()
    board.click("button#confirm")
    board.wait_for_load_state()
    board.context.close()

    member.goto("/projects")
    phone.fits()
    member.click("text=Modérer les commentaires")
    member.wait_for_load_state()
    phone.fits()
    with member.expect_navigation():
        member.click("button:has-text('Start working')")
        member.wait_for_load_state()
    phone.fits()
    answered = 0
    while answered < 10:
        item = re.search(r"item (c-\d{3})", member.content()).group(1)
        if item == DISTRESSING:
            _skip_with_keyboard(member)
            phone.fits()
            continue
        _answer_with_keyboard(member, remove=answered % 2 == 1)
        phone.fits()
        answered += 1
        assert f"{answered} answered so far" in member.content()
    member.goto(project_path)
    phone.fits()
    assert "You have answered 10 items" in member.content()

    desk.goto(project_path + "/answers")
    client.fits()
    assert desk.content().count('name="answer"') == 10
    desk.click("summary:has-text('Reject the answer to c-002')")
    desk.wait_for_load_state()
    desk.fill("details[open] textarea[name=reason]", "Ce commentaire était correct : à garder.")
    desk.click("details[open] button:has-text('Reject')")
    desk.wait_for_load_state()
    client.fits()
    assert "The answer is rejected." in desk.content()
    desk.click("button:has-text('Accept every pending answer')")
    desk.wait_for_load_state()
    client.fits()
    assert "9 answers accepted and paid." in desk.content()

    desk.goto(project_path)
    client.fits()
    assert re.search(r"Skipped</th><td>1<", desk.content())
    results = _download(desk, "Results (CSV)", tmp_path / "results.csv")
    proof = _download(desk, "Proof file", tmp_path / "results.proof.jsonl")
    rows = list(csv.DictReader(io.StringIO(results.read_text(encoding="utf-8"))))
    assert len(rows) == 10
    assert DISTRESSING not in {row["external_id"] for row in rows}

    key = urllib.request.urlopen(base + "/ledger/key").read().decode().strip()  # noqa: S310
    verified = _verify(results, proof, key)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK: 10 rows verified" in verified.stdout

    changed = tmp_path / "changed.csv"
    text = results.read_text(encoding="utf-8")
    first_keep = next(i for i, row in enumerate(rows) if "keep" in row["answer"])
    lines = text.splitlines(keepends=True)
    line_no = first_keep + 1  # after the header
    lines[line_no] = lines[line_no].replace("keep", "remove", 1)
    changed.write_text("".join(lines), encoding="utf-8")
    refused = _verify(changed, proof, key)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"row {first_keep + 1} (line {line_no + 1}" in refused.stdout + refused.stderr

    # Every page seen, at both widths (the member's work page is /projects/<id>/work).
    phone.seen.append(project_path + "/work")
    for visitor in (phone, client):
        for width in (PHONE, DESKTOP):
            visitor.revisit(width)
    phone.context.close()
    client.context.close()
