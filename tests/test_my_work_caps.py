"""My work shows where the member stands against the caps the coop enforces: active tasks
against the cap, hours taken this ISO week against the weekly cap, and (for members who accept
sensitive work) sensitive minutes today against the daily cap — the same figures the claim
refusals use, with singular and plural said right."""

import pytest
from conftest import login_client

from coop.errors import DomainError
from coop.market import operations as market_ops
from coop.models import Parameter


def page(app, member) -> str:
    response = login_client(app, member).get("/my-work")
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def test_my_work_shows_active_tasks_week_hours_and_sensitive_minutes(
    app, make_member, make_task
):
    member = make_member(sensitive_opt_in=True)
    market_ops.claim_task(member, make_task(estimated_minutes=30).id)
    market_ops.claim_task(member, make_task(estimated_minutes=60, price_cents=1500, sensitive=True,
                                            content_note="Violent images").id)
    text = page(app, member)
    assert "2 of 3 active tasks" in text
    assert "1.5 h of 40 h taken this week" in text
    assert "60 of 120 minutes of sensitive content today" in text
    assert "deliver or release one before taking another" not in text


def test_a_member_without_sensitive_work_sees_no_sensitive_line(app, make_member):
    text = page(app, make_member())
    assert "0 of 3 active tasks" in text and "0 h of 40 h taken this week" in text
    assert "sensitive content today" not in text


def test_at_the_cap_the_page_says_so_and_the_claim_is_refused(app, make_member, make_task):
    Parameter.create(key="max_active_tasks", value=1)
    member = make_member()
    market_ops.claim_task(member, make_task().id)
    text = page(app, member)
    assert "1 of 1 active task " in text  # singular
    assert "deliver or release one before taking another" in text
    usage = market_ops.cap_usage(member, market_ops.utcnow())
    assert (usage.active, usage.max_active) == (1, 1)
    with pytest.raises(DomainError, match="The limit is 1 active tasks"):
        market_ops.claim_task(member, make_task().id)
