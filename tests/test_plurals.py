"""Counts on pages agree with their number (issue 11, item 5): "1 task completed", "1 minute",
"at most 1 active task", and the plural form from 2 on, through ngettext so that each language
gets its own plural rules."""

from datetime import timedelta

from conftest import login_client

from coop.market import operations as ops
from coop.models import Earning, Parameter, TaskState


def text(response) -> str:
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def test_the_home_page_rules_use_the_singular_for_one(app, client):
    for key in ("max_active_tasks", "weekly_hours_cap", "sensitive_minutes_per_day",
                "review_window_hours", "max_attempts"):
        Parameter.create(key=key, value=1)
    page = text(client.get("/"))
    assert "At most 1 active task per member at a time." in page
    assert "At most 1 hour of tasks taken per member per week." in page
    assert "at most 1 minute of it a day." in page
    assert "within 1 hour;" in page
    assert "(up to 1 attempt)" in page


def test_a_bidders_record_and_the_estimate_agree_with_their_number(
    app, make_member, make_task, make_client_user
):
    client = make_client_user()
    veteran, newcomer = make_member(), make_member()
    done = make_task(client, state=TaskState.COMPLETED, member=veteran)
    Earning.create(member=veteran, task=done, price_cents=1000, earnings_cents=920,
                   margin_cents=80)
    task = ops.post_task(
        client,
        title="Check 1 ID",
        description="Compare a photo to a document.",
        instructions="",
        category="id_check",
        estimated_minutes=1,
        deadline=ops.utcnow() + timedelta(days=2),
        pricing="bids",
        budget_cents=2000,
        bidding_deadline=ops.utcnow() + timedelta(days=1),
    )
    ops.place_bid(veteran, task.id, amount_cents=1500, eta_hours=4)
    ops.place_bid(newcomer, task.id, amount_cents=1200, eta_hours=9)
    page = text(login_client(app, client).get(f"/tasks/{task.id}"))
    assert "1 task completed" in page and "0 tasks completed" in page
    assert "1 minute" in page and "1 minutes" not in page
