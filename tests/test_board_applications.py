"""The board admits or declines membership applications: each decision has a confirmation step
that changes nothing, a decline needs a reason and keeps its date, a decided application cannot
be decided again, and an admission is recorded as an event."""

import pytest
from conftest import login_client

from coop.models import Event, MemberStatus, User

CONFIRMED = {"confirmed": "1"}


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
    response = board_web.post(f"/board/applications/{applicant.id}/admit", data=CONFIRMED)
    assert response.status_code == 302
    assert reload(applicant).member_status == MemberStatus.ACTIVE
    events = list(Event.select().where(Event.kind == "member.admitted"))
    assert [e.subject for e in events] == [f"user:{applicant.id}"]
    assert events[0].payload == {"member": applicant.pseudonym}
    page = board_web.get("/board/applications").get_data(as_text=True)
    assert "Admitted" in page


def test_admitting_twice_is_refused(board_web, applicant):
    admit = f"/board/applications/{applicant.id}/admit"
    assert board_web.post(admit, data=CONFIRMED).status_code == 302
    again = board_web.post(f"/board/applications/{applicant.id}/admit", data=CONFIRMED)
    assert again.status_code == 400
    assert "already been decided" in again.get_data(as_text=True)
    assert Event.select().where(Event.kind == "member.admitted").count() == 1


def test_decline_keeps_the_reason(board_web, applicant):
    response = board_web.post(
        f"/board/applications/{applicant.id}/decline",
        data={"reason": "We are full this month.", **CONFIRMED},
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
        f"/board/applications/{applicant.id}/decline", data={"reason": reason, **CONFIRMED}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<textarea aria-invalid="true" id="reason"' in page
    assert "This field is required." in page
    assert reload(applicant).member_status == MemberStatus.APPLICANT


def test_a_decided_application_cannot_be_declined(board_web, applicant):
    board_web.post(f"/board/applications/{applicant.id}/admit", data=CONFIRMED)
    response = board_web.post(
        f"/board/applications/{applicant.id}/decline",
        data={"reason": "Changed our mind.", **CONFIRMED},
    )
    assert response.status_code == 400
    assert reload(applicant).member_status == MemberStatus.ACTIVE
    assert reload(applicant).decline_reason == ""


def test_a_declined_application_cannot_be_admitted(board_web, applicant):
    url = f"/board/applications/{applicant.id}"
    board_web.post(f"{url}/decline", data={"reason": "No.", **CONFIRMED})
    assert board_web.post(f"{url}/admit", data=CONFIRMED).status_code == 400
    assert reload(applicant).member_status == MemberStatus.DECLINED
    assert not Event.select().where(Event.kind == "member.admitted").exists()


def test_unknown_or_client_accounts_are_not_applications(board_web, make_client_user):
    shop = make_client_user()
    for url in ("/board/applications/999999/admit", f"/board/applications/{shop.id}/admit"):
        assert board_web.get(url).status_code == 404
        assert board_web.post(url, data=CONFIRMED).status_code == 404
    assert reload(shop).member_status is None


def test_admit_and_decline_have_equal_weight_and_lead_to_their_confirmation(board_web, applicant):
    page = board_web.get("/board/applications").get_data(as_text=True)
    admit = f'<a href="/board/applications/{applicant.id}/admit" role="button" class="outline">'
    decline = f'<a href="/board/applications/{applicant.id}/decline" role="button" class="outline">'
    assert admit in page and decline in page
    assert 'href="/board/"' in page


def test_admitting_asks_first_and_changes_nothing_until_confirmed(board_web, applicant):
    for first in (board_web.get, board_web.post):
        page = first(f"/board/applications/{applicant.id}/admit")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "This cannot be undone." in text and "recorded on the public ledger" in text
        assert 'name="confirmed" value="1"' in text
        assert reload(applicant).member_status == MemberStatus.APPLICANT
    assert not Event.select().where(Event.kind == "member.admitted").exists()
    assert board_web.post(
        f"/board/applications/{applicant.id}/admit", data=CONFIRMED
    ).status_code == 302
    assert reload(applicant).member_status == MemberStatus.ACTIVE


def test_declining_asks_for_the_reason_on_its_confirmation_page(board_web, applicant):
    page = board_web.get(f"/board/applications/{applicant.id}/decline").get_data(as_text=True)
    assert "They may apply again in 90 days." in page and 'name="reason"' in page
    # The reason written without the confirmation step comes back on the page, unsaved.
    first = board_web.post(f"/board/applications/{applicant.id}/decline",
                           data={"reason": "Not this season."})
    assert first.status_code == 200 and "Not this season." in first.get_data(as_text=True)
    assert reload(applicant).member_status == MemberStatus.APPLICANT
    board_web.post(f"/board/applications/{applicant.id}/decline",
                   data={"reason": "Not this season.", **CONFIRMED})
    declined = reload(applicant)
    assert declined.member_status == MemberStatus.DECLINED and declined.declined_at is not None


def test_a_decided_application_has_no_confirmation_page(board_web, applicant):
    board_web.post(f"/board/applications/{applicant.id}/admit", data=CONFIRMED)
    for action in ("admit", "decline"):
        response = board_web.get(f"/board/applications/{applicant.id}/{action}")
        assert response.status_code == 302 and response.location.endswith("/board/applications")


def test_declined_applications_show_their_date_and_reason(board_web, applicant):
    board_web.post(f"/board/applications/{applicant.id}/decline",
                   data={"reason": "We are full this month.", **CONFIRMED})
    page = board_web.get("/board/applications").get_data(as_text=True)
    row = page[page.index(f'id="decision-{applicant.id}"'):]
    row = row[: row.index("</tr>")]
    assert "Declined" in row and "We are full this month." in row
    assert "not recorded" not in row and str(reload(applicant).declined_at.year) in row
