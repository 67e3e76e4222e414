"""A declined applicant may apply again once the board's waiting period has passed since the
decline (and not before); the board sees the new application with the earlier decline. The
settings page names the person's real role."""

from datetime import timedelta

import pytest
from conftest import login_client

from coop.auth import operations
from coop.errors import DomainError
from coop.models import MemberStatus, Notification, Parameter, User, utcnow


@pytest.fixture
def declined(app, make_member, make_board):
    applicant = make_member(member_status=MemberStatus.APPLICANT, name="Dana",
                            application_note="First try.")
    with app.test_request_context():
        operations.decline_member(make_board(), applicant.id, "Come back with a portfolio.")
    return User.get_by_id(applicant.id)


def _age(user, days):
    User.update(declined_at=utcnow() - timedelta(days=days)).where(User.id == user.id).execute()
    return User.get_by_id(user.id)


def test_settings_say_when_the_applicant_may_apply_again(app, declined):
    page = login_client(app, declined).get("/settings").get_data(as_text=True)
    assert "(declined)" in page and "Come back with a portfolio." in page
    assert "You may apply again from" in page and 'action="/settings/reapply"' not in page


def test_applying_again_before_the_waiting_period_changes_nothing(app, declined):
    response = login_client(app, declined).post("/settings/reapply",
                                                data={"note": "Here is my portfolio."})
    assert response.status_code == 400
    assert "You may apply again from" in response.get_data(as_text=True)
    assert User.get_by_id(declined.id).member_status == MemberStatus.DECLINED


def test_after_the_waiting_period_the_board_sees_the_new_application(app, declined, make_board):
    board = make_board()
    declined = _age(declined, 91)
    web = login_client(app, declined)
    assert 'action="/settings/reapply"' in web.get("/settings").get_data(as_text=True)
    assert web.post("/settings/reapply", data={"note": ""}).status_code == 400
    assert User.get_by_id(declined.id).member_status == MemberStatus.DECLINED
    response = web.post("/settings/reapply", data={"note": "Here is my portfolio."})
    assert response.status_code == 302
    again = User.get_by_id(declined.id)
    assert again.member_status == MemberStatus.APPLICANT
    assert again.application_note == "Here is my portfolio."
    assert Notification.select().where(Notification.user == board.id).exists()
    page = login_client(app, board).get("/board/applications").get_data(as_text=True)
    assert "Here is my portfolio." in page and "Declined before, on" in page
    assert "(applicant)" in web.get("/settings").get_data(as_text=True)


def test_the_waiting_period_is_a_board_parameter(app, declined):
    Parameter.create(key="reapply_after_days", value=10)
    declined = _age(declined, 11)
    with app.test_request_context():
        assert operations.reapply(declined, "Ready now.").member_status == MemberStatus.APPLICANT


def test_only_a_declined_applicant_applies_again(app, make_member, make_client_user):
    for user in (make_member(), make_client_user()):
        with app.test_request_context(), pytest.raises(DomainError, match="declined"):
            operations.reapply(user, "Again.")
        assert login_client(app, user).post(
            "/settings/reapply", data={"note": "Again."}
        ).status_code == 400


@pytest.mark.parametrize(("kind", "label"), [
    ("client", "(client)"), ("applicant", "(applicant)"), ("member", "(member)"),
    ("board", "(board)"),
])
def test_settings_name_the_real_role(app, make_member, make_client_user, make_board, kind, label):
    """The label is translated (coop.auth.roles.role_label); the catalogue gets its French."""
    user = {
        "client": make_client_user,
        "applicant": lambda: make_member(member_status=MemberStatus.APPLICANT),
        "member": make_member,
        "board": make_board,
    }[kind]()
    assert label in login_client(app, user).get("/settings").get_data(as_text=True)
