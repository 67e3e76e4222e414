"""Roles read as translated words, never as the stored value: the settings page says a
person's standing (applicant, declined, member, board, client) through coop.labels."""

import pytest
from conftest import login_client

from coop import labels
from coop.models import MemberStatus, Role


@pytest.mark.parametrize("role, status, expected", [
    (Role.CLIENT, None, "client"),
    (Role.MEMBER, MemberStatus.ACTIVE, "member"),
    (Role.BOARD, MemberStatus.ACTIVE, "board"),
    (Role.MEMBER, MemberStatus.APPLICANT, "applicant"),
    (Role.MEMBER, MemberStatus.DECLINED, "declined"),
])
def test_settings_say_the_standing_in_words(app, make_user, role, status, expected):
    user = make_user(role, member_status=status)
    page = login_client(app, user).get("/settings").get_data(as_text=True)
    assert f"({expected})." in page


def test_the_role_goes_through_the_translated_label(app, make_member, monkeypatch):
    """A French page shows the label's translation ("membre"), not the stored "member"."""
    monkeypatch.setitem(labels.ROLE_LABELS, Role.MEMBER, "membre")
    page = login_client(app, make_member()).get("/settings", headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert "(membre)." in text and "(member)." not in text
