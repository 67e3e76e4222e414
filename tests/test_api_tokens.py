"""Settings → API tokens: any signed-in user creates a token, sees it once on the answer page
(never flashed, never in the session, only its SHA-256 in the database), lists their tokens
(not others'), and revokes one, after which the API refuses it; bad input changes nothing."""

import hashlib

import pytest
from conftest import PASSWORD

from coop.db import database
from coop.models import ApiToken


def signed_in(app, user):
    web = app.test_client()
    response = web.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return web


def _token_in(page: str) -> str:
    start = page.index('<code id="new-token">') + len('<code id="new-token">')
    return page[start : page.index("</code>", start)]


def test_settings_links_to_the_token_page(app, make_client_user):
    page = signed_in(app, make_client_user()).get("/settings").get_data(as_text=True)
    assert 'href="/settings/tokens"' in page


def test_token_page_needs_a_signed_in_user(client):
    assert client.get("/settings/tokens").status_code == 302
    assert client.post("/settings/tokens", data={"name": "x"}).status_code == 302
    assert ApiToken.select().count() == 0


@pytest.mark.parametrize("role", ["client", "member", "board"])
def test_token_is_shown_once_and_stored_hashed(app, make_user, role):
    user = make_user(role)
    web = signed_in(app, user)
    response = web.post("/settings/tokens", data={"name": "accounting"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = _token_in(response.get_data(as_text=True))
    assert token.startswith("coop_")

    (row,) = ApiToken.select().where(ApiToken.user == user.id)
    assert row.name == "accounting"
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(row.prefix)
    dump = "\n".join(str(value) for value in database.execute_sql(
        "SELECT * FROM api_token").fetchall())
    assert token not in dump
    with web.session_transaction() as session:
        assert token not in repr(dict(session))

    again = web.get("/settings/tokens").get_data(as_text=True)
    assert token not in again
    assert "accounting" in again and row.prefix in again
    api = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_name_comes_back_with_an_error_and_creates_nothing(app, make_client_user, name):
    web = signed_in(app, make_client_user())
    response = web.post("/settings/tokens", data={"name": name})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert 'id="new-token"' not in response.get_data(as_text=True)
    assert ApiToken.select().count() == 0


def test_revoked_token_no_longer_opens_the_api(app, make_client_user):
    user = make_client_user()
    web = signed_in(app, user)
    token = _token_in(web.post("/settings/tokens", data={"name": "ci"}).get_data(as_text=True))
    row = ApiToken.get(ApiToken.user == user.id)
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/tasks", headers=headers).status_code == 200

    response = web.post(f"/settings/tokens/{row.id}/revoke", data={"confirmed": "1"})
    assert response.status_code == 302
    assert ApiToken.get_by_id(row.id).revoked_at is not None
    refused = app.test_client().get("/api/v1/tasks", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    page = web.get("/settings/tokens").get_data(as_text=True)
    assert f"/settings/tokens/{row.id}/revoke" not in page


def test_nobody_sees_or_revokes_someone_elses_token(app, make_client_user, make_member):
    owner, other = make_client_user(), make_member()
    token = _token_in(
        signed_in(app, owner).post("/settings/tokens", data={"name": "owner's"})
        .get_data(as_text=True)
    )
    row = ApiToken.get(ApiToken.user == owner.id)
    web = signed_in(app, other)
    assert "owner&#39;s" not in web.get("/settings/tokens").get_data(as_text=True)
    assert web.post(f"/settings/tokens/{row.id}/revoke", data={"confirmed": "1"}).status_code \
        == 404
    assert web.get(f"/settings/tokens/{row.id}/revoke").status_code == 404
    assert web.post("/settings/tokens/999999/revoke", data={"confirmed": "1"}).status_code == 404
    assert ApiToken.get_by_id(row.id).revoked_at is None
    api = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_revoking_asks_first_and_only_a_confirmed_post_revokes(app, make_client_user):
    user = make_client_user()
    web = signed_in(app, user)
    web.post("/settings/tokens", data={"name": "ci"})
    row = ApiToken.get(ApiToken.user == user.id)
    tokens_page = web.get("/settings/tokens").get_data(as_text=True)
    assert f'<a href="/settings/tokens/{row.id}/revoke" role="button"' in tokens_page
    for first in (web.get, web.post):
        page = first(f"/settings/tokens/{row.id}/revoke")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "lose access to the API at once" in text and "This cannot be undone." in text
        assert ApiToken.get_by_id(row.id).revoked_at is None
    assert web.post(f"/settings/tokens/{row.id}/revoke", data={"confirmed": "1"}).status_code \
        == 302
    assert ApiToken.get_by_id(row.id).revoked_at is not None
