"""Accounts: clients register, workers apply, people sign in and out; passwords are hashed
with scrypt, sign-in is rate-limited, cookies are Secure, HttpOnly and SameSite, and ?next=
never leads off the site."""

import pytest
from conftest import PASSWORD

from coop import create_app
from coop.models import MemberStatus, Role, User

GOOD = "a long enough password"


def register(client, **overrides):
    data = {"name": "Maison Verte", "email": "shop@example.org", "password": GOOD,
            "confirm": GOOD}
    data.update(overrides)
    return client.post("/register", data=data)


def test_a_client_registers_and_signs_in(app, client):
    response = register(client)
    assert response.status_code == 302 and response.location == "/login"
    user = User.get(User.email == "shop@example.org")
    assert user.role == Role.CLIENT
    assert user.password_hash.startswith("scrypt:") and GOOD not in user.password_hash
    client.post("/login", data={"email": "shop@example.org", "password": GOOD})
    assert client.get("/client").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("password", "short"), ("confirm", "something else"),
     ("name", "x" * 101), ("name", "")],
)
def test_bad_registrations_change_nothing(app, client, field, value):
    response = register(client, **{field: value})
    assert response.status_code == 400
    assert User.select().count() == 0


def test_an_email_is_used_once(app, client, make_client_user):
    make_client_user(email="shop@example.org")
    response = register(client)
    assert response.status_code == 302  # the same answer as for a new address (test_mail.py)
    assert User.select().count() == 1


def test_a_worker_applies_and_waits_for_the_board(app, client):
    response = client.post(
        "/apply",
        data={"name": "Farid", "email": "farid@example.org", "password": GOOD, "confirm": GOOD,
              "note": "Photo retouching.", "sensitive_opt_in": "y"},
    )
    assert response.status_code == 302
    user = User.get(User.email == "farid@example.org")
    assert user.member_status == MemberStatus.APPLICANT and user.sensitive_opt_in
    client.post("/login", data={"email": "farid@example.org", "password": GOOD})
    assert "waiting for the board" in client.get("/settings").get_data(as_text=True)
    assert client.get("/tasks").status_code == 403  # not a member until admitted


def test_sign_in_and_out(app, client, make_member):
    member = make_member()
    wrong = client.post("/login", data={"email": member.email, "password": "nope"})
    assert wrong.status_code == 400 and "Wrong email or password" in wrong.get_data(as_text=True)
    response = client.post("/login", data={"email": member.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/my-work").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/my-work").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_next_never_leaves_the_site(app, client, make_member, target):
    member = make_member()
    response = client.post(
        f"/login?next={target}", data={"email": member.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response.location == "/"


def test_sign_in_is_rate_limited(tmp_path, make_member, app):
    member = make_member()
    limited = create_app({**app.config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3/minute"})
    web = limited.test_client()
    statuses = [
        web.post("/login", data={"email": member.email, "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    # Even the right password waits: the limit is on attempts, not failures.
    right = web.post("/login", data={"email": member.email, "password": PASSWORD})
    assert right.status_code == 429


def test_cookies_are_secure_httponly_and_samesite(app, make_member):
    member = make_member()
    secure = create_app({**app.config, "SESSION_COOKIE_SECURE": True})
    web = secure.test_client()
    response = web.post("/login", data={"email": member.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_forms_need_a_csrf_token(app, make_member):
    member = make_member()
    guarded = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    response = guarded.test_client().post(
        "/login", data={"email": member.email, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
