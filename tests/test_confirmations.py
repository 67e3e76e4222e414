"""Every irreversible action has a confirmation step: its page (a GET, and a POST without
`confirmed`, as from a page cached before) says what will happen and what cannot be undone and
changes nothing; only the confirmed POST does it. Closing a month, cancelling, releasing and
awarding a task, admitting or declining an applicant, resolving a dispute, revoking a token."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from conftest import login_client

from coop import calendar
from coop.auth.tokens import create_token
from coop.delivery import operations as delivery_ops
from coop.market import operations as market_ops
from coop.models import ApiToken, Bid, Dispute, MemberStatus, Pricing, Task, User, utcnow
from coop.statements.models import Expense, Period
from coop.statements.operations import current_month


@dataclass
class Step:
    """One action: who takes it, where, with what, and what it changes."""

    web: object
    url: str
    data: dict
    probe: Callable[[], object]  # the state the action changes


def _cancel(app, make_client_user, make_member, **_):
    owner = make_client_user()
    task = _bid_task(owner)
    market_ops.place_bid(make_member(), task.id, amount_cents=1800, eta_hours=5)
    return Step(login_client(app, owner), f"/tasks/{task.id}/cancel", {},
                lambda: Task.get_by_id(task.id).state)


def _release(app, make_member, make_task, **_):
    member, task = make_member(), make_task()
    market_ops.claim_task(member, task.id)
    return Step(login_client(app, member), f"/tasks/{task.id}/release", {},
                lambda: Task.get_by_id(task.id).member_id)


def _bid_task(client):
    return market_ops.post_task(
        client, title="Transcribe a call", description="Ten minutes.", instructions="",
        category="transcription", estimated_minutes=60, deadline=utcnow() + timedelta(days=2),
        pricing=Pricing.BIDS, budget_cents=2000, bidding_deadline=utcnow() + timedelta(days=1),
    )


def _award(app, make_member, make_client_user, **_):
    task = _bid_task(make_client_user())
    bid = market_ops.place_bid(make_member(), task.id, amount_cents=1800, eta_hours=5)
    return Step(login_client(app, task.client), f"/bids/{bid.id}/award", {},
                lambda: (Task.get_by_id(task.id).state, Bid.get_by_id(bid.id).state))


def _applicant(make_member):
    return make_member(member_status=MemberStatus.APPLICANT, application_note="Hello")


def _admit(app, make_member, make_board, **_):
    applicant = _applicant(make_member)
    return Step(login_client(app, make_board()), f"/board/applications/{applicant.id}/admit",
                {}, lambda: User.get_by_id(applicant.id).member_status)


def _decline(app, make_member, make_board, **_):
    applicant = _applicant(make_member)
    return Step(login_client(app, make_board()), f"/board/applications/{applicant.id}/decline",
                {"reason": "We are full."}, lambda: User.get_by_id(applicant.id).member_status)


def _resolve(app, make_delivery, make_board, **_):
    task, delivery = make_delivery()
    delivery_ops.reject_delivery(task.client, delivery.id,
                                 "Half of the rows are missing from the file.", "incomplete")
    opened = delivery_ops.dispute_rejection(delivery.member, delivery.id, "All rows are there.")
    return Step(login_client(app, make_board()), f"/board/disputes/{opened.id}/resolve",
                {"outcome": "upheld", "reason": "Rows 1-40 are there."},
                lambda: Dispute.get_by_id(opened.id).state)


def _revoke(app, make_client_user, **_):
    owner = make_client_user()
    row, _token = create_token(owner, "ci")
    return Step(login_client(app, owner), f"/settings/tokens/{row.id}/revoke", {},
                lambda: ApiToken.get_by_id(row.id).revoked_at)


def _close(app, make_board, **_):
    # An expense last month and nothing before: last month is the one to close next.
    month = calendar.shift_month(current_month(), -1)
    Expense.create(month=month, label="Hosting", amount_cents=1200)
    return Step(login_client(app, make_board()), f"/statements/{month}/close", {},
                lambda: Period.select().count())


ACTIONS = {
    "cancel": _cancel, "release": _release, "award": _award, "admit": _admit,
    "decline": _decline, "resolve": _resolve, "revoke": _revoke, "close": _close,
}


@pytest.fixture
def fixtures(app, make_member, make_client_user, make_board, make_task, make_delivery):
    return dict(app=app, make_member=make_member, make_client_user=make_client_user,
                make_board=make_board, make_task=make_task, make_delivery=make_delivery)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_first_step_changes_nothing_and_the_confirmed_one_acts(fixtures, action):
    with fixtures["app"].test_request_context():
        step = ACTIONS[action](**fixtures)
    before = step.probe()
    for first in (step.web.get(step.url), step.web.post(step.url, data=step.data)):
        assert first.status_code == 200, action
        page = first.get_data(as_text=True)
        assert "What will happen:" in page and "This cannot be undone." in page
        assert f'action="{step.url}"' in page and 'name="confirmed" value="1"' in page
        assert "Go back without doing it" in page
        assert step.probe() == before, f"{action}: the first step changed something"
    done = step.web.post(step.url, data={**step.data, "confirmed": "1"})
    assert done.status_code == 302, action
    assert step.probe() != before, f"{action}: the confirmed step did nothing"


def test_the_close_page_states_the_figures_it_freezes(app, make_board):
    month = calendar.shift_month(current_month(), -1)
    Expense.create(month=month, label="Hosting", amount_cents=1200)
    page = login_client(app, make_board()).get(f"/statements/{month}/close")
    text = page.get_data(as_text=True)
    assert "no surplus, and a loss of €12.00 carried to the next month, after €12.00" in text
    assert f"No expense of {month} can be added or corrected afterwards" in text


def test_an_action_no_longer_possible_has_no_confirmation_page(app, make_client_user, make_task,
                                                               make_member):
    owner = make_client_user()
    task = make_task(client=owner)
    market_ops.claim_task(make_member(), task.id)
    response = login_client(app, owner).get(f"/tasks/{task.id}/cancel")
    assert response.status_code == 302 and response.location.endswith(f"/tasks/{task.id}")
    page = login_client(app, owner).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'href="/tasks/{task.id}/cancel"' not in page
