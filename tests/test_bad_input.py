"""Bad input answers a 4xx with a message and changes nothing, on SQLite and PostgreSQL alike:
control characters (NUL first: PostgreSQL refuses it in text) in any form field, query
argument or JSON string, anonymously and signed in; dates in year 1; a 400-digit page; ids
past 2^63 (in pages and the API); a consistency proof from an empty ledger. Tab, CR and LF still
pass, and an upload declaring a 200-character content type is stored as a safe one."""

import io
from datetime import timedelta

import pytest
from conftest import login_client
from test_access_matrix import world  # noqa: F401 - the populated fixture

from coop.models import MODELS, DeliveryFile, Parameter, Task, utcnow
from coop.statements.models import Expense, Period, Statement
from ledger.store import LedgerCheckpoint, LedgerEntry, LedgerHash

CONTROL_MESSAGE = b"control characters"
TABLES = MODELS + [Expense, Period, Statement, LedgerEntry, LedgerHash, LedgerCheckpoint]


def counts():
    return {model._meta.table_name: model.select().count() for model in TABLES}


def _task_fields(**extra):
    deadline = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    fields = {"title": "Sort receipts", "description": "Sort them by date.",
              "instructions": "", "category": "data_entry", "estimated_minutes": "30",
              "deadline": deadline, "pricing": "fixed", "price": "15", "content_note": ""}
    fields.update(extra)
    return fields


# (role, path, form fields): every text field of each form, each with a control character.
FORMS = [
    (None, "/login", {"email": "a@example.test", "password": "long password 123"}),
    (None, "/register", {"name": "Ann", "email": "ann@example.test",
                         "password": "long password 123", "confirm": "long password 123"}),
    (None, "/apply", {"name": "Ann", "email": "ann@example.test", "note": "I label photos.",
                      "password": "long password 123", "confirm": "long password 123"}),
    ("client", "/settings/tokens", {"name": "ci"}),
    ("client", "/tasks/new", _task_fields()),
    ("member", "/tasks/{bids}/bid", {"amount": "19", "eta_hours": "4", "note": "Soon"}),
    ("client", "/deliveries/{delivery}/reject", {"reason": "Missing rows"}),
    ("member", "/deliveries/{rejected}/dispute", {"reason": "All done"}),
    ("board", "/board/disputes/{dispute}/resolve", {"outcome": "upheld", "reason": "Fine"}),
    ("board", "/board/applications/{applicant}/decline", {"reason": "Not now"}),
    ("board", "/statements/{month}/expenses", {"label": "Hosting", "amount": "5"}),
]
FORM_CASES = [
    pytest.param(role, path, fields, name, char, id=f"{path}-{name}-{ord(char):#04x}")
    for role, path, fields in FORMS
    for name in fields
    for char in ("\x00", "\x1b")
]


def _client(app, world, role):  # noqa: F811
    users, _tokens, _ids = world
    return login_client(app, users[role] if role else None)


@pytest.mark.parametrize(("role", "path", "fields", "name", "char"), FORM_CASES)
def test_control_characters_in_a_form_field(app, world, role, path, fields, name, char):  # noqa: F811
    before = counts()
    data = {**fields, name: fields[name] + char + "x"}
    response = _client(app, world, role).post(path.format(**world[2]), data=data)
    assert response.status_code == 400 and CONTROL_MESSAGE in response.data
    assert counts() == before


QUERIES = [
    (None, "/ledger/proof/inclusion?index=0&size=1\x00"),
    ("member", "/tasks?category=data_entry\x00"),
    ("member", "/tasks?sort=pay&page=1\x01"),
    ("board", "/statements/{month}/summary.pdf?draft=1\x00"),
    ("client", "/login?next=/client\x00"),
    ("member", "/tasks?x\x00=1"),
]


@pytest.mark.parametrize(("role", "path"), QUERIES)
def test_control_characters_in_a_query_argument(app, world, role, path):  # noqa: F811
    before = counts()
    response = _client(app, world, role).get(path.format(**world[2]))
    assert response.status_code == 400 and CONTROL_MESSAGE in response.data
    assert counts() == before


def test_control_characters_in_the_api_query_and_json(app, world):  # noqa: F811
    _users, tokens, _ids = world
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['client']}"}
    response = client.get("/api/v1/tasks?page=1\x00", headers=headers)
    assert response.status_code == 400 and response.json["error"]
    before = counts()
    for body in ({"email": "a\x00@example.test"}, {"k\x00": 1}, {"list": ["ok", ["\x07"]]}):
        response = client.post("/login", json=body)
        assert response.status_code == 400 and CONTROL_MESSAGE in response.data
    assert counts() == before


def test_tab_cr_lf_still_pass(app, world):  # noqa: F811
    users, _tokens, ids = world
    note = "line one\r\n\tline two"
    response = login_client(app, users["member"]).post(
        f"/tasks/{ids['bids']}/bid", data={"amount": "19", "eta_hours": "4", "note": note})
    assert response.status_code == 302


@pytest.mark.parametrize("fields", [
    {"deadline": "0001-01-01T00:00"},
    {"deadline": "9999-12-31T23:59"},
    {"pricing": "bids", "price": "", "budget": "20", "bidding_deadline": "0001-01-01T00:00"},
], ids=["deadline-year-1", "deadline-year-9999", "bidding-deadline-year-1"])
def test_dates_out_of_bounds(app, world, fields):  # noqa: F811
    users, _tokens, _ids = world
    before = counts()
    response = login_client(app, users["client"]).post("/tasks/new", data=_task_fields(**fields))
    assert response.status_code == 400 and b"between the years 2000 and 2999" in response.data
    assert counts() == before


HUGE = "9" * 400


@pytest.mark.parametrize("page", [HUGE, "9" * 5000, "0", "-1", "²", "1.5"])
def test_page_numbers(app, world, page):  # noqa: F811
    users, tokens, _ids = world
    response = login_client(app, users["member"]).get(f"/tasks?page={page}")
    assert response.status_code == 400 and b"page must be a whole number" in response.data
    api = app.test_client().get(f"/api/v1/tasks?page={page}",
                                headers={"Authorization": f"Bearer {tokens['client']}"})
    assert api.status_code == 400 and "page must be a whole number" in api.json["error"]


BIG_IDS = [str(2**63), str(2**64 + 1), HUGE, "0"]
ID_ROUTES = [
    ("member", "GET", "/tasks/{id}"),
    ("client", "GET", "/tasks/{id}/attachments/{id}"),
    ("member", "POST", "/tasks/{id}/claim"),
    ("client", "POST", "/tasks/{id}/cancel"),
    ("client", "POST", "/bids/{id}/award"),
    ("member", "POST", "/tasks/{id}/deliver"),
    ("client", "GET", "/deliveries/{id}/files/{id}"),
    ("client", "POST", "/deliveries/{id}/accept"),
    ("client", "GET", "/deliveries/{id}/bundle.json"),
    ("client", "POST", "/settings/tokens/{id}/revoke"),
    ("board", "POST", "/board/applications/{id}/admit"),
    ("board", "POST", "/board/disputes/{id}/resolve"),
    ("board", "GET", "/statements/{month}/members/{id}.pdf"),
    ("client", "GET", "/ledger/entries/{id}"),
    ("client", "API", "/api/v1/tasks/{id}"),
    ("client", "API", "/api/v1/deliveries/{id}/files/{id}"),
    ("client", "API", "/api/v1/deliveries/{id}/bundle"),
]


@pytest.mark.parametrize(("role", "method", "route"), ID_ROUTES)
def test_ids_past_the_64_bit_range_are_404(app, world, role, method, route):  # noqa: F811
    users, tokens, ids = world
    before = counts()
    for big in BIG_IDS:
        if big == "0" and "/ledger/entries/" in route:
            continue  # ledger indexes start at 0
        path = route.format(id=big, month=ids["month"])
        if method == "API":
            response = app.test_client().get(
                path, headers={"Authorization": f"Bearer {tokens[role]}"})
            assert response.status_code == 404 and response.json["error"], path
        else:
            response = login_client(app, users[role]).open(path, method=method)
            assert response.status_code == 404, path
            assert b"Nothing here" in response.data, path
    assert counts() == before
    # The largest id the columns hold is an ordinary "not found".
    largest = route.format(id=2**63 - 1, month=ids["month"])
    if method == "API":
        response = app.test_client().get(largest,
                                         headers={"Authorization": f"Bearer {tokens[role]}"})
    else:
        response = login_client(app, users[role]).open(largest, method=method)
    assert response.status_code == 404


@pytest.mark.parametrize("query", ["from=0&to=0", "from=0&to=1", "from=2&to=1", "from=1&to=99",
                                   "from=&to=1", "from=1&to=" + HUGE])
def test_consistency_proof_bounds(app, world, query):  # noqa: F811
    response = app.test_client().get(f"/ledger/proof/consistency?{query}")
    assert 400 <= response.status_code < 500 and response.json["error"]


@pytest.mark.parametrize("index", ["²", HUGE, "-1"])
def test_inclusion_proof_bounds(app, world, index):  # noqa: F811
    response = app.test_client().get(f"/ledger/proof/inclusion?index={index}&size=1")
    assert response.status_code == 400 and response.json["error"]


def test_an_upload_with_a_long_content_type_is_stored_as_octet_stream(app, world):  # noqa: F811
    users, _tokens, ids = world
    long_type = "application/" + "x" * 200
    task = Task.get_by_id(ids["delivered"])
    assert task.state == "delivered"
    # The shared world holds this client's rejections for the board; let this one take effect.
    Parameter.delete().where(Parameter.key == "rejection_review_min_reviews").execute()
    response = login_client(app, users["client"]).post(
        f"/deliveries/{ids['delivery']}/reject",
        data={"reason": "The labels are missing on half the photos.", "category": "incomplete"})
    assert response.status_code == 302
    upload = (io.BytesIO(b"second attempt"), "work.txt", long_type)
    response = login_client(app, users["member"]).post(
        f"/tasks/{ids['delivered']}/deliver",
        data={"files": [upload], "note": "Again", "minutes_spent": "30"},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.data[-400:]
    stored = DeliveryFile.select().order_by(DeliveryFile.id.desc()).first()
    assert stored.content_type == "application/octet-stream"
