"""`coop screenshots` serves a throwaway demo instance and writes each role's main page as a
PNG of the width asked for; it never reuses the caller's settings, and says plainly what is
missing when Playwright or Chromium is."""

import struct
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coop import screenshots
from coop.cli import main
from coop.screenshots import SHOTS, ScreenshotError, demo_environment, take_screenshots


def png_size(path: Path) -> tuple[int, int]:
    """Read a PNG's width and height from its IHDR chunk (Pillow may not be installed)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


@pytest.mark.browser
@pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(), reason="Chromium is not installed")
def test_a_member_page_is_written_at_phone_width(tmp_path):
    pytest.importorskip("playwright")
    member = next(shot for shot in SHOTS if shot.name == "member")

    written = take_screenshots(tmp_path / "out", shots=[member], widths=[390])

    assert written == [tmp_path / "out" / "member-390.png"]
    width, height = png_size(written[0])
    assert width == 390
    assert height >= screenshots.HEIGHT  # the full page, not a strip


def test_the_demo_instance_ignores_the_callers_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("COOP_DATABASE_URL", "postgresql://someone@db.example/live")
    monkeypatch.setenv("COOP_SMTP_URL", "smtp://mail.example:25")
    monkeypatch.setenv("COOP_INSTANCE_DIR", "/srv/coop/instance")

    env = demo_environment(tmp_path)

    assert "COOP_DATABASE_URL" not in env and "COOP_SMTP_URL" not in env
    assert env["COOP_INSTANCE_DIR"] == str(tmp_path / "instance")
    assert env["COOP_LEDGER_KEY_FILE"].startswith(str(tmp_path))


def test_missing_playwright_is_said(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import raises ImportError

    with pytest.raises(ScreenshotError, match="Playwright is not installed"):
        take_screenshots(tmp_path)
    assert not any(tmp_path.iterdir())


def test_the_command_says_chromium_is_missing_and_leaves_the_instance_alone(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(screenshots, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("COOP_INSTANCE_DIR", str(tmp_path / "instance"))

    result = CliRunner().invoke(main, ["screenshots", str(tmp_path / "out")])

    assert result.exit_code == 1
    assert "Chromium is not installed" in result.output
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "instance").exists()  # the caller's app was never built
