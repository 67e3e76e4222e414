"""API tokens carry a scope (read, or read and write), chosen in settings and in the CLI; tokens
are read-only unless asked. The refusal of a write by a read-only token is tested with the
project operations (tests/test_api_projects.py)."""

from conftest import login_client

from coop.auth.tokens import create_token
from coop.models import ApiToken, TokenScope


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_read_token_still_reads(app, client, make_client_user, make_task):
    owner = make_client_user()
    make_task(client=owner)
    _row, token = create_token(owner, "reader")
    assert client.get("/api/v1/tasks", headers=_auth(token)).get_json()["total"] == 1


def test_the_scope_is_chosen_in_settings(app, make_client_user):
    user = make_client_user()
    browser = login_client(app, user)
    page = browser.get("/settings/tokens").get_data(as_text=True)
    assert 'value="write"' in page
    response = browser.post("/settings/tokens", data={"name": "sync", "scope": "write"})
    assert response.status_code == 200
    assert ApiToken.get(ApiToken.name == "sync").scope == TokenScope.WRITE
    response = browser.post("/settings/tokens", data={"name": "bad", "scope": "admin"})
    assert response.status_code == 400
    assert ApiToken.get_or_none(ApiToken.name == "bad") is None


def test_the_cli_makes_read_tokens_unless_asked(app, runner, make_client_user):
    user = make_client_user()
    assert runner.invoke(args=["token", "create", "--user", user.email]).exit_code == 0
    result = runner.invoke(
        args=["token", "create", "--user", user.email, "--name", "w", "--scope", "write"]
    )
    assert result.exit_code == 0, result.output
    scopes = {row.name: row.scope for row in ApiToken.select()}
    assert scopes == {"cli": TokenScope.READ, "w": TokenScope.WRITE}
