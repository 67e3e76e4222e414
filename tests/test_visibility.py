"""One visibility rule per concept, the same answer on every surface: after member A delivers a
task, has it rejected, releases it and member B takes it over, each role (the task's client,
another client, the current holder B, the former holder A, another member, the board,
anonymous) gets the same answer from the task page, the API's task list and task endpoint, and
the ledger entry endpoint. The member an entry names reads it (A their award and delivery, B
their award) and nobody else but the client and the board; only the client, the board and the
holder learn the holder's pseudonym (A does not learn B's)."""

import io
from datetime import timedelta

import pytest
from conftest import login_client

from coop import files
from coop.auth.tokens import create_token
from coop.delivery import operations as delivery_ops
from coop.market import operations as market_ops
from coop.models import Event, utcnow

ROLES = ["owner", "other_client", "current", "former", "other_member", "board", "anonymous"]
SEES_TASK = {"owner", "current", "former", "board"}
KNOWS_HOLDER = {"owner", "current", "board"}
# Which entries each role may read: the member it names, the task's client, the board.
READS = {
    "former_award": {"owner", "former", "board"},
    "former_delivery": {"owner", "former", "board"},
    "former_review": {"owner", "former", "board"},
    "current_award": {"owner", "current", "board"},
}


@pytest.fixture
def takeover(app, make_client_user, make_member, make_board):
    people = {
        "owner": make_client_user(),
        "other_client": make_client_user(),
        "current": make_member(),
        "former": make_member(),
        "other_member": make_member(),
        "board": make_board(),
        "anonymous": None,
    }
    with app.test_request_context():
        task = market_ops.post_task(
            people["owner"], title="Tag 40 songs", description="Genre and mood.",
            instructions="", category="data_entry", estimated_minutes=60,
            deadline=utcnow() + timedelta(days=2), pricing="fixed", price_cents=1500)
        market_ops.claim_task(people["former"], task.id)
        stored = files.save(io.BytesIO(b"first try"), "tags.csv", "text/csv")
        delivery = delivery_ops.submit_delivery(people["former"], task.id, [stored], "")
        delivery_ops.reject_delivery(
            people["owner"], delivery.id, "Moods are missing on every song.", "incomplete")
        market_ops.release_task(people["former"], task.id)
        market_ops.claim_task(people["current"], task.id)
    awards = list(Event.select().where((Event.subject == f"task:{task.id}")
                                       & (Event.kind == "task.awarded")).order_by(Event.id))
    delivery_events = {e.kind: e for e in Event.select().where(
        Event.subject == f"delivery:{delivery.id}")}
    entries = {
        "former_award": awards[0].ledger_index,
        "current_award": awards[1].ledger_index,
        "former_delivery": delivery_events["delivery.submitted"].ledger_index,
        "former_review": delivery_events["delivery.reviewed"].ledger_index,
    }
    tokens = {role: create_token(user, "t")[1] for role, user in people.items() if user}
    return people, tokens, task, entries


def _api(app, tokens, role, path):
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" else {}
    return app.test_client().get(path, headers=headers)


@pytest.mark.parametrize("role", ROLES)
def test_every_surface_gives_the_same_answer(app, takeover, role):
    people, tokens, task, entries = takeover
    holder = people["current"].pseudonym
    refused = 401 if role == "anonymous" else 404

    page = login_client(app, people[role]).get(f"/tasks/{task.id}")
    api = _api(app, tokens, role, f"/api/v1/tasks/{task.id}")
    listing = _api(app, tokens, role, "/api/v1/tasks")
    if role in SEES_TASK:
        assert page.status_code == 200 and api.status_code == 200
        assert task.id in [t["id"] for t in listing.json["tasks"]]
        shown = api.json["member"]
        listed = next(t for t in listing.json["tasks"] if t["id"] == task.id)["member"]
        on_page = holder.encode() in page.data
        if role in KNOWS_HOLDER:
            assert (shown, listed, on_page) == (holder, holder, True)
        else:
            assert (shown, listed, on_page) == (None, None, False)
    else:
        assert page.status_code == (302 if role == "anonymous" else 404)
        assert api.status_code == refused
        if role != "anonymous":
            assert task.id not in [t["id"] for t in listing.json["tasks"]]

    for name, index in entries.items():
        by_token = _api(app, tokens, role, f"/ledger/entries/{index}")
        by_session = login_client(app, people[role]).get(f"/ledger/entries/{index}")
        expected = 200 if role in READS[name] else refused
        assert (by_token.status_code, by_session.status_code) == (expected, expected), name


@pytest.mark.parametrize("role", ["former", "current", "other_member", "owner"])
def test_deliveries_follow_the_delivery_rule(app, takeover, role):
    """A's delivery, its files and bundle: A and the client, on the page and in the API."""
    people, tokens, task, _entries = takeover
    delivery = task.deliveries.get()
    stored = delivery.files.get()
    sees = role in ("former", "owner")
    api = _api(app, tokens, role, f"/api/v1/tasks/{task.id}")
    if api.status_code == 200:
        assert [d["id"] for d in api.json["deliveries"]] == ([delivery.id] if sees else [])
    # A released its task after the rejection, so the rejection is final: the client keeps the
    # bundle (hashes) but not the files (the rules item 14 of the hardening issue).
    file_status = {"former": 200, "owner": 403}.get(role, 404)
    bundle_status = 200 if sees else 404
    for path, status in ((f"/api/v1/deliveries/{delivery.id}/files/{stored.id}", file_status),
                         (f"/api/v1/deliveries/{delivery.id}/bundle", bundle_status)):
        response = _api(app, tokens, role, path)
        response.close()  # file downloads stream from an open file
        assert response.status_code == status, path
    for path, status in ((f"/deliveries/{delivery.id}/files/{stored.id}", file_status),
                         (f"/deliveries/{delivery.id}/bundle.json", bundle_status)):
        response = login_client(app, people[role]).get(path)
        response.close()
        assert response.status_code == status, path
