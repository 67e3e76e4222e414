"""Mail and passwords: `coop.mail.send` speaks real SMTP (with credentials from COOP_SMTP_URL)
or writes an owner-only .eml to instance/outbox/; a forgotten password is reset by following
the link received by a real SMTP server, once, before it expires, and the reset ends every
session; a signed-in person changes their password with the current one and stays signed in
while other sessions end; new passwords that are common, repetitive or made of the e-mail are
refused with the reason; registering a taken address answers exactly like a new one and mails
its owner instead of creating anything."""

import re
import stat
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import smtp_server
from conftest import PASSWORD
from test_sessions import is_signed_in, replay, sign_in

from coop import mail
from coop.models import PasswordReset, User, utcnow

NEW = "a fresh and long passphrase"


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback, and the app pointed at it with a user and password."""
    controller, inbox = smtp_server.start("coop mailer", "s3cret/pass")
    app.config["SMTP_URL"] = (
        f"smtp://{quote('coop mailer')}:{quote('s3cret/pass', safe='')}"
        f"@127.0.0.1:{controller.port}"
    )
    app.config["MAIL_FROM"] = "Coop <noreply@coop.example>"
    yield inbox
    controller.stop()


def _outbox(app) -> list[Path]:
    return sorted((Path(app.config["INSTANCE_DIR"]) / "outbox").glob("*.eml"))


def _link(message) -> str:
    """The reset link in a received message, as a path for the test client."""
    url = re.search(r"https?://\S+", message.get_content()).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _forgot(app, email):
    return app.test_client().post("/forgot", data={"email": email})


def test_send_speaks_smtp_with_the_url_credentials(app, smtp):
    with app.test_request_context():
        mail.send("zoe@example.org", "Hello", "Body text")
    (recipients, message), = smtp.messages
    assert smtp.authenticated == [True]
    assert recipients == ["zoe@example.org"]
    assert message["Subject"] == "Hello" and message["From"] == "Coop <noreply@coop.example>"
    assert message.get_content().strip() == "Body text"


def test_a_refused_login_is_reported_not_hidden(app, smtp):
    app.config["SMTP_URL"] = app.config["SMTP_URL"].replace("s3cret", "wrong")
    with app.test_request_context(), pytest.raises(mail.MailNotSent):
        mail.send("zoe@example.org", "Hello", "Body text")
    assert smtp.messages == []


def test_without_smtp_mail_goes_to_a_private_outbox(app):
    assert app.config["SMTP_URL"] == ""
    with app.test_request_context():
        mail.send("zoe@example.org", "Hello", "Body text")
    (path,) = _outbox(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert "To: zoe@example.org" in text and "Body text" in text


def test_a_forgotten_password_is_reset_by_the_mailed_link(app, smtp, make_member):
    member = make_member()
    browser, cookie = sign_in(app, member)
    response = _forgot(app, member.email.upper())
    assert response.status_code == 302
    (recipients, message), = smtp.messages
    assert recipients == [member.email] and "reset" in message["Subject"].lower()
    link = _link(message)
    row = PasswordReset.get(PasswordReset.user == member.id)
    assert link.split("token=")[1] not in row.token_sha256  # only the hash is stored

    web = app.test_client()
    page = web.get(link)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    token = link.split("token=")[1]
    done = web.post("/reset", data={"token": token, "password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.location == "/login"
    assert not is_signed_in(browser) and not is_signed_in(replay(app, cookie))
    old = web.post("/login", data={"email": member.email, "password": PASSWORD})
    assert old.status_code == 400
    assert web.post("/login", data={"email": member.email, "password": NEW}).status_code == 302

    # Used once: the same link is refused now.
    again = app.test_client().post(
        "/reset", data={"token": token, "password": NEW + "!", "confirm": NEW + "!"}
    )
    assert again.status_code == 400 and "ask for a new one" in again.get_data(as_text=True)
    assert app.test_client().get(link).status_code == 400


def test_using_a_link_spends_the_older_ones(app, smtp, make_member):
    member = make_member()
    _forgot(app, member.email)
    _forgot(app, member.email)
    first, second = (_link(m).split("token=")[1] for _, m in smtp.messages)
    web = app.test_client()
    used = web.post("/reset", data={"token": second, "password": NEW, "confirm": NEW})
    assert used.status_code == 302
    refused = web.post("/reset", data={"token": first, "password": NEW, "confirm": NEW})
    assert refused.status_code == 400


def test_an_expired_link_is_refused(app, smtp, make_member):
    member = make_member()
    _forgot(app, member.email)
    token = _link(smtp.messages[0][1]).split("token=")[1]
    PasswordReset.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    response = app.test_client().post("/reset", data={"token": token, "password": NEW,
                                                      "confirm": NEW})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert User.get_by_id(member.id).password_hash == member.password_hash


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 500])
def test_unknown_links_are_refused(app, token):
    assert app.test_client().get(f"/reset?token={token}").status_code == 400
    response = app.test_client().post("/reset", data={"token": token, "password": NEW,
                                                      "confirm": NEW})
    assert response.status_code == 400


def test_a_failing_server_changes_no_answer_and_logs_no_link(app, make_member, caplog):
    member = make_member()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.free_port()}"  # nobody listens
    response = _forgot(app, member.email)
    assert response.status_code == 302 and response.location == "/login"
    assert "not sent" in caplog.text
    assert "token=" not in caplog.text and "/reset" not in caplog.text


def test_forgot_answers_the_same_for_unknown_addresses(app, smtp, make_member):
    member = make_member()
    known = _forgot(app, member.email)
    unknown = _forgot(app, "nobody@example.org")
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    web = app.test_client()
    pages = []
    for email in (member.email, "nobody@example.org"):
        web.post("/forgot", data={"email": email})
        text = web.get("/login").get_data(as_text=True)
        pages.append(re.sub(r'name="csrf_token" value="[^"]+"', "", text.replace(email, "EMAIL")))
    assert pages[0] == pages[1]
    assert len(smtp.messages) == 2  # both for the member, none for nobody


def test_the_reset_link_is_built_on_the_configured_base_url(app, smtp, make_member):
    member = make_member()
    app.config["BASE_URL"] = "https://coop.example"
    app.test_client().post("/forgot", data={"email": member.email},
                           headers={"Host": "evil.example"})
    body = smtp.messages[0][1].get_content()
    assert "https://coop.example/reset?token=" in body and "evil.example" not in body


def test_change_password_keeps_this_browser_and_ends_the_others(app, make_member):
    member = make_member()
    here, _ = sign_in(app, member)
    other, cookie = sign_in(app, member)
    wrong = here.post("/settings/password",
                      data={"current": "not it at all", "password": NEW, "confirm": NEW})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.get_data(as_text=True)
    response = here.post("/settings/password",
                         data={"current": PASSWORD, "password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert is_signed_in(here)
    assert not is_signed_in(other) and not is_signed_in(replay(app, cookie))
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": member.email, "password": NEW}).status_code == 302


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaa", "too few different characters"),
        ("qwertyuiop", "most common"),
        ("Password2026!", "most common"),
        ("1234567890", "most common"),
        ("short", "at least 10"),
        ("EMAIL-and-more", "e-mail address"),
        ("LOCAL is my password", "e-mail address"),
    ],
)
def test_weak_new_passwords_are_refused_with_the_reason(app, make_member, password, reason):
    member = make_member(email="dominique@example.org")
    password = password.replace("EMAIL", member.email).replace("LOCAL", "Dominique")
    web = app.test_client(user=member)
    response = web.post("/settings/password",
                        data={"current": PASSWORD, "password": password, "confirm": password})
    assert response.status_code == 400 and reason in response.get_data(as_text=True)
    assert User.get_by_id(member.id).password_hash == member.password_hash

    fresh = app.test_client()
    data = {"name": "Dom", "email": "dom.new@example.org", "password": password,
            "confirm": password}
    if "e-mail" not in reason:  # the register form judges the password against its own e-mail
        refused = fresh.post("/register", data=data)
        assert refused.status_code == 400 and reason in refused.get_data(as_text=True)
        assert not User.select().where(User.email == "dom.new@example.org").exists()


def test_registering_a_taken_address_answers_like_a_new_one(app, smtp, make_client_user):
    existing = make_client_user(email="shop@example.org")
    answers = []
    for email in ("shop@example.org", "new.shop@example.org"):
        web = app.test_client()
        response = web.post("/register", data={"name": "Maison", "email": email,
                                               "password": NEW, "confirm": NEW})
        page = web.get(response.location).get_data(as_text=True).replace(email, "EMAIL")
        page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)  # random per session
        answers.append((response.status_code, response.location, page))
    assert answers[0] == answers[1]
    assert User.get(User.email == "shop@example.org").password_hash == existing.password_hash
    assert User.select().count() == 2
    (to_old, old), (to_new, new) = smtp.messages
    assert to_old == ["shop@example.org"] and "already have" in old["Subject"]
    assert "/forgot" in old.get_content()
    assert to_new == ["new.shop@example.org"] and "Welcome" in new["Subject"]


def test_applying_with_a_taken_address_creates_nothing(app, make_member):
    member = make_member(email="farid@example.org")
    response = app.test_client().post(
        "/apply", data={"name": "Again", "email": member.email, "password": NEW, "confirm": NEW,
                        "note": "Hello"})
    assert response.status_code == 302 and response.location == "/login"
    assert User.select().count() == 1
    (message,) = _outbox(app)
    assert "already have" in message.read_text()


def test_the_cli_applies_the_same_password_rules(runner):
    result = runner.invoke(
        args=["user", "create", "--email", "ops@example.org", "--name", "Ops", "--role", "board"],
        input="aaaaaaaaaa\naaaaaaaaaa\n",
    )
    assert result.exit_code != 0 and "too few different characters" in result.output
    assert not User.select().where(User.email == "ops@example.org").exists()
