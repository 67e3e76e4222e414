"""Posting and cancelling tasks: valid posts are stored as the client meant them (times in the
client's timezone, pay per hour, attachments); every invalid input comes back as a 400 form
naming the problem and creates nothing; the pay floor's message states the minimum."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import login_client

from coop.errors import Forbidden, NotFound
from coop.market import operations as ops
from coop.models import Task, TaskAttachment, TaskState, utcnow


def local_input(delta: timedelta, tz: str = "Europe/Paris") -> str:
    """A datetime-local value `delta` from now in the timezone tz."""
    moment = datetime.now(ZoneInfo(tz)) + delta
    return moment.strftime("%Y-%m-%dT%H:%M")


def fixed_form(**overrides) -> dict:
    data = {
        "title": "Transcribe a 10-minute interview",
        "description": "French audio, clear speech.",
        "instructions": "Verbatim, with speaker names.",
        "category": "transcription",
        "estimated_minutes": "30",
        "deadline": local_input(timedelta(days=2)),
        "pricing": "fixed",
        "price": "9.00",
        "budget": "",
        "bidding_deadline": "",
        "content_note": "",
    }
    data.update(overrides)
    return data


def test_post_fixed_price_task(app, make_client_user):
    client_user = make_client_user(timezone="America/New_York")
    web = login_client(app, client_user)
    deadline = local_input(timedelta(days=2), "America/New_York")
    response = web.post("/tasks/new", data=fixed_form(deadline=deadline))
    assert response.status_code == 302
    task = Task.get()
    assert task.client_id == client_user.id
    assert task.state == TaskState.OPEN
    assert task.price_cents == 900
    assert task.pay_per_hour_cents == 1800
    # The deadline was typed in New York time and is stored as naive UTC.
    typed = datetime.strptime(deadline, "%Y-%m-%dT%H:%M").replace(
        tzinfo=ZoneInfo("America/New_York")
    )
    assert task.deadline == typed.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")


def test_post_bids_task_with_attachments(app, make_client_user):
    web = login_client(app, make_client_user())
    data = fixed_form(
        pricing="bids",
        price="",
        budget="20",
        bidding_deadline=local_input(timedelta(days=1)),
        sensitive="y",
        content_note="Violent images",
        category="moderation",
    )
    data["attachments"] = [
        (io.BytesIO(b"first guide"), "guide.pdf"),
        (io.BytesIO(b"second file"), "../../etc/list.csv"),
    ]
    response = web.post("/tasks/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    task = Task.get()
    assert (task.pricing, task.budget_cents, task.price_cents) == ("bids", 2000, None)
    assert task.pay_per_hour_cents == 4000
    assert task.sensitive and task.content_note == "Violent images"
    names = sorted(a.filename for a in TaskAttachment.select())
    assert names == ["guide.pdf", "list.csv"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": "0"}, "greater than zero"),
        ({"price": "-5"}, "Enter an amount in euros"),
        ({"price": "abc"}, "Enter an amount in euros"),
        ({"price": ""}, "Enter the price"),
        ({"estimated_minutes": "0"}, "Number must be between"),
        ({"estimated_minutes": "-10"}, "Number must be between"),
        ({"estimated_minutes": "ten"}, "Not a valid integer"),
        ({"deadline": local_input(timedelta(hours=-1))}, "must be in the future"),
        ({"deadline": "yesterday"}, "Not a valid datetime"),
        ({"title": ""}, "This field is required"),
        ({"title": "x" * 121}, "120 characters"),
        ({"description": "x" * 5001}, "5000 characters"),
        ({"category": "mining"}, "Not a valid choice"),
        ({"pricing": "auction"}, "Not a valid choice"),
        ({"sensitive": "y", "content_note": ""}, "Say what the sensitive content is"),
        (
            {"price": "5.99"},
            "The pay floor is €12.00/h for the member, after the coop&#39;s margin of 8.00%: for "
            "30 minutes the price must be at least €6.52.",
        ),
        (
            {"pricing": "bids", "price": "", "budget": "5",
             "bidding_deadline": local_input(timedelta(days=1))},
            "for 30 minutes the budget must be at least €6.52.",
        ),
        (
            {"pricing": "bids", "price": "", "budget": "20",
             "bidding_deadline": local_input(timedelta(days=3))},
            "must come before the delivery deadline",
        ),
        (
            {"pricing": "bids", "price": "", "budget": "20",
             "bidding_deadline": local_input(timedelta(hours=-2))},
            "bidding deadline must be in the future",
        ),
        ({"pricing": "bids", "price": "", "budget": "20"}, "Enter the bidding deadline"),
    ],
)
def test_invalid_post_is_refused_and_creates_nothing(app, make_client_user, overrides, message):
    web = login_client(app, make_client_user())
    response = web.post("/tasks/new", data=fixed_form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert Task.select().count() == 0


def test_new_task_page_shows_the_floor(app, make_client_user):
    response = login_client(app, make_client_user()).get("/tasks/new")
    assert response.status_code == 200
    assert "€12.00" in response.get_data(as_text=True)


def test_only_clients_post(app, make_member):
    assert login_client(app, make_member()).post("/tasks/new", data=fixed_form()).status_code == 403
    assert Task.select().count() == 0
    with pytest.raises(Forbidden):
        ops.post_task(
            make_member(), title="t", description="d", instructions="", category="moderation",
            estimated_minutes=30, deadline=utcnow() + timedelta(days=1), pricing="fixed",
            price_cents=1000,
        )


def test_floor_follows_the_parameters(app, make_client_user):
    from coop.models import Parameter

    Parameter.create(key="pay_floor_cents_per_hour", value=2400)
    web = login_client(app, make_client_user())
    response = web.post("/tasks/new", data=fixed_form(price="9"))
    assert response.status_code == 400
    assert "for 30 minutes the price must be at least €13.04." in (
        response.get_data(as_text=True)
    )


def test_client_cancels_an_open_task(app, make_client_user, make_task):
    owner = make_client_user()
    task = make_task(client=owner)
    response = login_client(app, owner).post(f"/tasks/{task.id}/cancel", data={"confirmed": "1"})
    assert response.status_code == 302
    assert Task.get_by_id(task.id).state == TaskState.CANCELLED


def test_cancel_refused_once_started_or_not_yours(app, make_client_user, make_member, make_task):
    owner = make_client_user()
    task = make_task(client=owner)
    assert login_client(app, make_client_user()).post(
        f"/tasks/{task.id}/cancel", data={"confirmed": "1"}).status_code == 404
    ops.claim_task(make_member(), task.id)
    response = login_client(app, owner).post(f"/tasks/{task.id}/cancel", data={"confirmed": "1"})
    assert response.status_code == 400
    assert "nobody has started" in response.get_data(as_text=True)
    assert Task.get_by_id(task.id).state == TaskState.ASSIGNED
    with pytest.raises(NotFound):
        ops.cancel_task(owner, 999_999)


def test_the_floor_is_net_of_the_margin_so_the_gross_floor_is_refused(app, make_client_user):
    """At the 12 €/h floor, 6.00 € for 30 minutes pays the member only 5.52 € (11.04 €/h) after
    the 8 % margin: refused, naming the least price that nets the floor (6.52 € nets 6.00 €)."""
    web = login_client(app, make_client_user())
    for pricing in ({"price": "6.00"}, {"pricing": "bids", "price": "", "budget": "6.00",
                                        "bidding_deadline": local_input(timedelta(days=1))}):
        response = web.post("/tasks/new", data=fixed_form(**pricing))
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "The pay floor is €12.00/h for the member, after the coop&#39;s margin of " \
               "8.00%: for 30 minutes the" in page
        assert "must be at least €6.52." in page
    assert Task.select().count() == 0
    assert web.post("/tasks/new", data=fixed_form(price="6.52")).status_code == 302
    assert Task.get().price_cents == 652


def test_a_french_refusal_gives_the_minimum_in_french(app, make_client_user):
    web = login_client(app, make_client_user())
    response = web.post("/tasks/new", data=fixed_form(price="6"),
                        headers={"Accept-Language": "fr"})
    assert response.status_code == 400 and "6,52\u00a0€" in response.get_data(as_text=True)
