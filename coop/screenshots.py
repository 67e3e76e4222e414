"""Screenshots of each role's main page for the guides: `coop screenshots OUTDIR`.

A throwaway instance (SQLite in a temporary folder, its own signing key, none of the caller's
COOP_* settings) gets the demo data and is served on a free loopback port. Chromium, with
JavaScript off since no page needs it, signs in as each role and captures the role's main page
at a phone's and a desktop's width. Playwright comes with the dev extra (`pip install -e
'.[dev]'`); it is imported only here, so the site runs without it.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coop import demo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
COOP = [str(Path(sys.executable).parent / "coop")]
WIDTHS = (390, 1280)
HEIGHT = 800  # the window's; a full-page capture grows to the page's height
STARTUP_SECONDS = 30


@dataclass(frozen=True)
class Shot:
    """A role's main page, seen in one language; written as `<name>-<width>.png`."""

    name: str
    path: str
    email: str | None = None  # None: an anonymous visitor
    locale: str = "en-GB"


SHOTS = (
    Shot("visitor", "/"),
    Shot("member", "/my-work", f"alice@{demo.DOMAIN}"),
    Shot("client", "/client", f"shop@{demo.DOMAIN}"),
    Shot("board", "/board/", f"board@{demo.DOMAIN}"),
    # One role in French, to show the site follows the browser's language.
    Shot("member-fr", "/my-work", f"alice@{demo.DOMAIN}", "fr-FR"),
)


class ScreenshotError(Exception):
    """Something the person running the command can fix, said in words."""


def demo_environment(folder: Path) -> dict[str, str]:
    """Return an environment whose instance, key and settings all live in folder.

    The caller's COOP_* variables are dropped: one naming a PostgreSQL database, a mail server
    or an S3 bucket would otherwise receive the demo data.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("COOP_")}
    env.update(
        COOP_INSTANCE_DIR=str(folder / "instance"),
        COOP_LEDGER_KEY_FILE=str(folder / "keys" / "ledger_key"),
        COOP_NTP_SERVERS="",  # no network: pages say the clock is unsynchronised, and that's fine
        COOP_KERNEL_CLOCK="0",
        COOP_SECURE_COOKIES="0",  # plain HTTP on loopback
        COOP_LOG_FORMAT="text",
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([*COOP, *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise ScreenshotError(f"`coop {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")


@contextmanager
def served_demo(folder: Path) -> Iterator[str]:
    """Create a demo instance in folder, serve it on loopback, and yield its base URL."""
    env = demo_environment(folder)
    _run(["init"], env)
    _run(["demo"], env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [*COOP, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise ScreenshotError(f"The demo server did not start:\n{tail}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", demo.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if "/login" in page.url:
        raise ScreenshotError(f"{email} could not sign in to the demo instance.")


def capture(browser, base: str, out_dir: Path, shots: Iterable[Shot],
            widths: Iterable[int]) -> list[Path]:
    """Write a full-page PNG of each shot at each width to out_dir; return the files."""
    widths, written = sorted(widths), []
    for shot in shots:
        context = browser.new_context(
            base_url=base, java_script_enabled=False, locale=shot.locale,
            viewport={"width": min(widths), "height": HEIGHT}, device_scale_factor=1,
        )
        try:
            page = context.new_page()
            if shot.email:
                _sign_in(page, shot.email)
            for width in widths:
                page.set_viewport_size({"width": width, "height": HEIGHT})
                response = page.goto(shot.path, wait_until="load")
                if response is None or response.status != 200:
                    status = response.status if response else "no answer"
                    raise ScreenshotError(f"{shot.path} as {shot.name} answered {status}.")
                path = out_dir / f"{shot.name}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
        finally:
            context.close()
    return written


def take_screenshots(out_dir: Path, shots: Iterable[Shot] = SHOTS,
                     widths: Iterable[int] = WIDTHS) -> list[Path]:
    """Serve a fresh demo instance and write each shot's PNGs to out_dir; return the files.

    :raises ScreenshotError: Playwright or Chromium is missing, or the demo would not serve.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ScreenshotError(
            "Playwright is not installed: it comes with the dev extra (pip install -e '.[dev]', "
            "which `make screenshots` runs)."
        ) from None
    if not Path(CHROMIUM).exists():
        raise ScreenshotError(f"Chromium is not installed (looked for {CHROMIUM}).")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coop-screenshots-") as folder:
        with served_demo(Path(folder)) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )
            try:
                return capture(browser, base, out_dir, shots, widths)
            finally:
                browser.close()
