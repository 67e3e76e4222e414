"""The board admits or declines membership applications: a decline needs a reason, a decided
application cannot be decided again, and an admission is recorded as an event."""

import pytest
from conftest import login_client

from coop.models import Event, MemberStatus, User


@pytest.fixture
def applicant(make_member):
    return make_member(
        member_status=MemberStatus.APPLICANT,
        name="Dana Applicant",
        application_note="Five years of audio transcription.",
        sensitive_opt_in=True,
    )


@pytest.fixture
def board_web(app, make_board):
    return login_client(app, make_board())


def reload(user):
    return User.get_by_id(user.id)


def test_pending_applications_are_listed_with_their_note(board_web, applicant):
    page = board_web.get("/board/applications").get_data(as_text=True)
    assert "Dana Applicant" in page
    assert applicant.email in page
    assert "Five years of audio transcription." in page
    assert "Accepts tasks flagged as sensitive content." in page


def test_admit_makes_a_member_and_records_an_event(board_web, applicant):
    response = board_web.post(f"/board/applications/{applicant.id}/admit")
    assert response.status_code == 302
    assert reload(applicant).member_status == MemberStatus.ACTIVE
    events = list(Event.select().where(Event.kind == "member.admitted"))
    assert [e.subject for e in events] == [f"user:{applicant.id}"]
    assert events[0].payload == {"member": applicant.pseudonym}
    page = board_web.get("/board/applications").get_data(as_text=True)
    assert "Admitted" in page


def test_admitting_twice_is_refused(board_web, applicant):
    assert board_web.post(f"/board/applications/{applicant.id}/admit").status_code == 302
    again = board_web.post(f"/board/applications/{applicant.id}/admit")
    assert again.status_code == 400
    assert "already been decided" in again.get_data(as_text=True)
    assert Event.select().where(Event.kind == "member.admitted").count() == 1


def test_decline_keeps_the_reason(board_web, applicant):
    response = board_web.post(
        f"/board/applications/{applicant.id}/decline", data={"reason": "We are full this month."}
    )
    assert response.status_code == 302
    declined = reload(applicant)
    assert declined.member_status == MemberStatus.DECLINED
    assert declined.decline_reason == "We are full this month."
    page = board_web.get("/board/applications").get_data(as_text=True)
    assert "We are full this month." in page


@pytest.mark.parametrize("reason", ["", "   "])
def test_decline_without_a_reason_changes_nothing(board_web, applicant, reason):
    response = board_web.post(
        f"/board/applications/{applicant.id}/decline", data={"reason": reason}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="reason-{applicant.id}" name="reason" rows="2" aria-invalid="true"' in page
    assert "This field is required." in page
    assert reload(applicant).member_status == MemberStatus.APPLICANT


def test_a_decided_application_cannot_be_declined(board_web, applicant):
    board_web.post(f"/board/applications/{applicant.id}/admit")
    response = board_web.post(
        f"/board/applications/{applicant.id}/decline", data={"reason": "Changed our mind."}
    )
    assert response.status_code == 400
    assert reload(applicant).member_status == MemberStatus.ACTIVE
    assert reload(applicant).decline_reason == ""


def test_a_declined_application_cannot_be_admitted(board_web, applicant):
    board_web.post(f"/board/applications/{applicant.id}/decline", data={"reason": "No."})
    assert board_web.post(f"/board/applications/{applicant.id}/admit").status_code == 400
    assert reload(applicant).member_status == MemberStatus.DECLINED
    assert not Event.select().where(Event.kind == "member.admitted").exists()


def test_unknown_or_client_accounts_are_not_applications(board_web, make_client_user):
    shop = make_client_user()
    assert board_web.post("/board/applications/999999/admit").status_code == 404
    assert board_web.post(f"/board/applications/{shop.id}/admit").status_code == 404
    assert reload(shop).member_status is None
