"""In a real Chromium, JavaScript off, against gunicorn: a member on a 390 px phone finds a
project that asks for a qualification they do not hold (no "Start working"), opens the
qualifications page and the qualification, takes its two-item test, sees the result (held,
each item right), and the project now hands them an item. Every page visited is no wider than
the viewport at 390 px and at 1280 px.

The client's qualification and project are made by the operations in a setup script (the
client's own pages have a browser test of their own, test_browser_projects.py)."""

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_browser_journey import CHROMIUM, COOP, _sign_in, served_instance
from test_browser_journey import browser as browser  # noqa: PLC0414 - the shared fixture
from test_browser_projects import DESKTOP, PHONE, Visitor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
BOARD_EMAIL, PASSWORD = "board@example.org", "bea keeps the books 2026"
CLIENT_EMAIL = "labels@example.org"
MEMBER_EMAIL, MEMBER_PASSWORD = "alice@example.org", "forums for six long years"
QUALIFICATION, PROJECT = "French moderation", "Moderate the forum"

# Run in the served instance's environment: a qualification of two gold items, and a published
# project that requires it.
SETUP = f"""
import io
from datetime import timedelta

from coop import create_app
from coop.models import User, utcnow
from coop.projects import operations as projects
from coop.quality import qualifications

TEMPLATE = {{"kind": "classify", "text_field": "comment", "labels": ["keep", "remove"]}}
app = create_app()
with app.test_request_context():
    client = User.get(User.email == {CLIENT_EMAIL!r})
    gold = (b'external_id,comment,gold_answer,gold_explanation\\n'
            b'q1,Merci pour cet article,"{{""label"": ""keep""}}",A thank-you is kept.\\n'
            b'q2,Je sais ou tu habites,"{{""label"": ""remove""}}",A threat is removed.\\n')
    qualification = qualifications.create_qualification(
        client, name={QUALIFICATION!r}, description="Tell a threat from an opinion.",
        instructions="Keep opinions; remove threats and insults.", template=TEMPLATE,
        estimated_seconds=20, pass_mark_pct=100, validity_days=90, retake_days=1,
        stream=io.BytesIO(gold), filename="gold.csv")
    project = projects.create_project(
        client, title={PROJECT!r}, instructions="Keep opinions; remove threats.",
        template=TEMPLATE, price_cents=20, estimated_seconds=20,
        deadline=utcnow() + timedelta(days=3), budget_cents=1000)
    items = b"external_id,comment\\nc1,Bel article\\nc2,Tres utile\\n"
    projects.upload_items(client, project, io.BytesIO(items), "items.csv")
    qualifications.require_qualification(client, project, qualification)
    projects.publish_project(client, project)
"""


@contextmanager
def served_with(tmp_path_factory, setup: str):
    """Serve a fresh instance with gunicorn, with a client and a member made from the command
    line and setup run in its environment; yield (base URL, what setup printed)."""
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "coop.wsgi:app"]
    with served_instance(
        tmp_path_factory, BOARD_EMAIL, PASSWORD,
        lambda port: [*gunicorn, "--bind", f"127.0.0.1:{port}"],
    ) as (base, env):
        for email, role in ((CLIENT_EMAIL, "client"), (MEMBER_EMAIL, "member")):
            subprocess.run(
                [*COOP, "user", "create", "--email", email, "--name", role.title(),
                 "--role", role],
                env=env, check=True, capture_output=True, text=True,
                input=f"{MEMBER_PASSWORD}\n{MEMBER_PASSWORD}\n",
            )
        made = subprocess.run([sys.executable, "-c", setup], env=env, check=True,
                              capture_output=True, text=True, timeout=120)
        yield base, made.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A client's qualification and the project requiring it; a member who holds nothing."""
    with served_with(tmp_path_factory, SETUP) as (base, _printed):
        yield base


def _answer(page, label: str) -> None:
    page.check(f"input[name=label][value={label}]")
    with page.expect_navigation():
        page.click("main button:has-text('Send')")
    page.wait_for_load_state()


def test_a_member_qualifies_and_the_project_opens(server, browser):
    phone = Visitor(browser, server, PHONE)
    member = phone.page
    _sign_in(member, MEMBER_EMAIL, MEMBER_PASSWORD)
    phone.fits()

    member.goto("/projects")
    phone.fits()
    member.click(f"text={PROJECT}")
    member.wait_for_load_state()
    phone.fits()
    project_path = member.url.removeprefix(server)
    assert "until you hold the qualifications" in member.content()
    assert member.locator("button:has-text('Start working')").count() == 0

    member.goto("/qualifications")
    phone.fits()
    assert QUALIFICATION in member.content()
    member.click(f"#qualification-1 a:has-text('{QUALIFICATION}')")
    member.wait_for_load_state()
    phone.fits()
    assert "Not held yet." in member.content()
    with member.expect_navigation():
        member.click("main button:has-text('Take the test')")
    member.wait_for_load_state()
    phone.fits()

    expected = {"q1": "keep", "q2": "remove"}
    for _ in expected:
        content = member.content()
        shown = "q1" if "Merci pour cet article" in content else "q2"
        _answer(member, expected[shown])
        phone.fits()
    assert "/qualifications/" in member.url, member.url
    content = member.content()
    assert "You hold it until" in content, content[-3000:]
    assert content.count("· right ·") == 2 and "· missed ·" not in content

    member.goto(project_path)
    phone.fits()
    assert "until you hold the qualifications" not in member.content()
    with member.expect_navigation():
        member.click("main button:has-text('Start working')")
    member.wait_for_load_state()
    phone.fits()
    content = member.content()
    assert "Bel article" in content or "Tres utile" in content, content[-3000:]

    phone.revisit(DESKTOP)
    phone.context.close()
