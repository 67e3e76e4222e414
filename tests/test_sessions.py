"""Ending a session ends it everywhere: after logging out, a password change or the account
being disabled (by the board or `coop user disable`), a copy of the old session cookie or
remember cookie signs nobody in; a disabled account cannot sign in nor use its API tokens
until `coop user enable`, and a board member cannot disable themselves."""

from conftest import PASSWORD
from flask_login.utils import encode_cookie

from coop.auth.tokens import create_token
from coop.models import Event, User


def sign_in(app, user):
    """A client signed in through the real form, and a copy of its session cookie."""
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client, client.get_cookie("session").value


def replay(app, cookie, name="session"):
    """A new browser holding only a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie(name, cookie)
    return thief


def is_signed_in(client) -> bool:
    return client.get("/settings").status_code == 200


def test_a_copied_cookie_dies_with_logout(app, make_member):
    member = make_member()
    client, cookie = sign_in(app, member)
    assert is_signed_in(replay(app, cookie))  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert not is_signed_in(client)
    assert not is_signed_in(replay(app, cookie))


def test_logging_out_ends_the_other_browsers_too(app, make_member):
    member = make_member()
    laptop, _ = sign_in(app, member)
    phone, _ = sign_in(app, member)
    laptop.post("/logout")
    assert not is_signed_in(phone)
    again, _ = sign_in(app, member)  # signing in afresh works
    assert is_signed_in(again)


def test_a_remember_cookie_dies_with_logout(app, make_member):
    member = make_member()
    with app.test_request_context():
        remember = encode_cookie(member.get_id())
    assert is_signed_in(replay(app, remember, "remember_token"))
    client, _ = sign_in(app, member)
    client.post("/logout")
    assert not is_signed_in(replay(app, remember, "remember_token"))


def test_a_session_without_a_generation_is_refused(app, make_member):
    member = make_member()
    client = app.test_client(user=member)
    with client.session_transaction() as session:
        session["_user_id"] = str(member.id)  # how sessions looked before generations
    assert not is_signed_in(client)


def test_the_board_disables_a_member(app, make_member, make_board):
    member, board = make_member(), make_board()
    client, cookie = sign_in(app, member)
    _row, token = create_token(member, "script")
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/tasks", headers=auth).status_code == 200

    response = app.test_client(user=board).post(f"/board/members/{member.id}/disable")
    assert response.status_code == 302
    assert User.get_by_id(member.id).disabled_at is not None
    assert not is_signed_in(client) and not is_signed_in(replay(app, cookie))
    again = app.test_client().post("/login", data={"email": member.email, "password": PASSWORD})
    assert again.status_code == 400 and "disabled" in again.get_data(as_text=True)
    assert api.get("/api/v1/tasks", headers=auth).status_code == 401
    assert Event.get(Event.kind == "account.disabled").subject == f"user:{member.id}"
    assert app.test_cli_runner().invoke(args=["ledger", "verify"]).exit_code == 0
    page = app.test_client(user=board).get("/board/members").get_data(as_text=True)
    assert "Disabled" in page


def test_the_board_cannot_disable_itself_or_twice(app, make_member, make_board):
    board, member = make_board(), make_member()
    web = app.test_client(user=board)
    assert web.post(f"/board/members/{board.id}/disable").status_code == 400
    assert User.get_by_id(board.id).disabled_at is None
    assert web.post(f"/board/members/{member.id}/disable").status_code == 302
    assert web.post(f"/board/members/{member.id}/disable").status_code == 400
    assert web.post("/board/members/999999/disable").status_code == 404


def test_clients_are_not_on_the_members_page(app, make_client_user, make_board):
    customer = make_client_user()
    web = app.test_client(user=make_board())
    assert web.post(f"/board/members/{customer.id}/disable").status_code == 404
    assert User.get_by_id(customer.id).disabled_at is None


def test_the_cli_disables_any_account(app, runner, make_client_user):
    customer = make_client_user()
    client, cookie = sign_in(app, customer)
    result = runner.invoke(args=["user", "disable", customer.email.upper()])
    assert result.exit_code == 0, result.output
    assert not is_signed_in(client) and not is_signed_in(replay(app, cookie))
    assert "disabled" in runner.invoke(args=["user", "list"]).output
    twice = runner.invoke(args=["user", "disable", customer.email])
    assert twice.exit_code != 0 and "already disabled" in twice.output
    unknown = runner.invoke(args=["user", "disable", "nobody@example.test"])
    assert unknown.exit_code != 0 and "No account" in unknown.output

    enabled = runner.invoke(args=["user", "enable", customer.email])
    assert enabled.exit_code == 0, enabled.output
    assert not is_signed_in(replay(app, cookie))  # the old session stays ended
    again, _ = sign_in(app, customer)
    assert is_signed_in(again)
    assert runner.invoke(args=["user", "enable", customer.email]).exit_code != 0


def test_m0006_upgrades_a_database_made_before_it(app, runner, make_member):
    """An older database (no generation, no disabled date, no resets) gains them on init."""
    from playhouse.migrate import SchemaMigrator, migrate

    from coop.db import database
    from coop.models import SchemaVersion

    member = make_member()
    migrator = SchemaMigrator.from_database(database.obj)
    database.execute_sql('DROP TABLE "password_reset"')
    migrate(
        migrator.drop_column("user", "session_generation"),
        migrator.drop_column("user", "disabled_at"),
    )
    SchemaVersion.delete().where(SchemaVersion.name == "m0006_accounts").execute()
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0 and "(1 migration(s) applied)" in result.output
    assert User.get_by_id(member.id).session_generation == 0
    assert "password_reset" in database.get_tables()
