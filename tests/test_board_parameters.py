"""The board changes the coop's parameters in the units people use (euros, percent, whole
numbers): a valid change saves only the changed keys and records one event with the new values;
bad input or a broken SCOP rule comes back on its field with status 400 and saves nothing."""

import re
from dataclasses import fields

import pytest
from conftest import login_client

from coop import params
from coop.board.forms import display, parse
from coop.board.operations import InvalidParameters, update_parameters
from coop.errors import Forbidden
from coop.models import Event, Parameter


@pytest.fixture
def board(make_board):
    return make_board()


@pytest.fixture
def board_web(app, board):
    return login_client(app, board)


def form_data(**changes):
    """The parameters form as the page shows it with the defaults, with some fields changed."""
    defaults = params.Params()
    data = {f.name: display(f.name, getattr(defaults, f.name)) for f in fields(params.Params)}
    data.update(changes)
    return data


def errors_on(page: str, name: str) -> str:
    """Return the error text shown right after the input of the named field."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>(.*?)(?:<label|<p>)', page, re.S)
    assert match, name
    return " ".join(re.findall(r'<small class="error">(.*?)</small>', match.group(1)))


def nothing_saved():
    return not Parameter.select().exists() and not Event.select().exists()


def test_the_page_shows_euros_percent_and_the_development_reserve(board_web):
    page = board_web.get("/board/parameters").get_data(as_text=True)
    assert 'name="pay_floor_cents_per_hour" type="text" value="12.00"' in page
    assert 'name="margin_bp" type="text" value="8"' in page
    assert 'name="legal_reserve_bp" type="text" value="15"' in page
    assert "Development reserve (the rest of the surplus): 30.00%" in page


def test_a_valid_change_saves_the_changed_keys_and_records_one_event(board_web):
    response = board_web.post(
        "/board/parameters",
        data=form_data(pay_floor_cents_per_hour="13,50", margin_bp="7.25", max_attempts="4"),
    )
    assert response.status_code == 302
    stored = {p.key: p.value for p in Parameter.select()}
    assert stored == {"pay_floor_cents_per_hour": 1350, "margin_bp": 725, "max_attempts": 4}
    assert params.current().margin_bp == 725
    [event] = Event.select().where(Event.kind == "parameters.changed")
    assert event.subject == "parameters"
    assert event.payload == {
        **params.current().as_dict(),
        "changed": ["margin_bp", "max_attempts", "pay_floor_cents_per_hour"],
    }
    page = board_web.get("/board/parameters").get_data(as_text=True)
    assert 'value="13.50"' in page and 'value="7.25"' in page


def test_saving_unchanged_values_records_nothing(board_web):
    assert board_web.post("/board/parameters", data=form_data()).status_code == 302
    assert nothing_saved()


def test_only_a_real_change_is_an_event(board, board_web):
    board_web.post("/board/parameters", data=form_data(weekly_hours_cap="35"))
    board_web.post("/board/parameters", data=form_data(weekly_hours_cap="35"))
    assert Event.select().where(Event.kind == "parameters.changed").count() == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("pay_floor_cents_per_hour", "twelve", "Enter an amount in euros"),
        ("pay_floor_cents_per_hour", "-12.00", "Must not be negative."),
        ("pay_floor_cents_per_hour", "0.50", "Must be between €1.00 and €1,000.00."),
        ("margin_bp", "8.125", "at most two decimals"),
        ("margin_bp", "60", "Must be between 0.00% and 50.00%."),
        ("max_active_tasks", "0", "Must be between 1 and 50."),
        ("max_active_tasks", "2.5", "Enter a whole number"),
        ("review_window_hours", "", "Enter a whole number"),
        ("weekly_hours_cap", "-1", "Must not be negative."),
        ("max_attempts", "99999999999", "Enter a whole number"),
    ],
)
def test_bad_input_comes_back_on_its_field(board_web, name, value, message):
    response = board_web.post("/board/parameters", data=form_data(**{name: value}))
    assert response.status_code == 400
    assert message in errors_on(response.get_data(as_text=True), name)
    assert nothing_saved()


@pytest.mark.parametrize(
    ("changes", "name", "rule"),
    [
        ({"legal_reserve_bp": "14.99"}, "legal_reserve_bp", "at least 15% of the surplus"),
        ({"work_share_bp": "24"}, "work_share_bp", "the work share is at least 25%"),
        (
            {"work_share_bp": "30", "dividends_bp": "30.01"},
            "dividends_bp",
            "dividends may never exceed the work share",
        ),
        ({"basis_hours_pct": "10"}, "basis_equal_pct", "must add up to 100%"),
        # 15% legal / 0% development / 42.5% work / 42.5% dividends: more to capital than to
        # the reserves, which art. 33 forbids even though dividends equal the work share.
        (
            {"work_share_bp": "42.5", "dividends_bp": "42.5"},
            "dividends_bp",
            "capital remuneration may never exceed the reserves allocated for the period "
            "(here 15.00%)",
        ),
    ],
)
def test_scop_rules_are_quoted_on_their_field(board_web, changes, name, rule):
    response = board_web.post("/board/parameters", data=form_data(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert rule in errors_on(page, name)
    assert nothing_saved()


def test_operation_refuses_non_board(app, make_member):
    with app.test_request_context(), pytest.raises(Forbidden):
        update_parameters(make_member(), {"max_attempts": 4})
    assert nothing_saved()


@pytest.mark.parametrize(
    "values",
    [
        {"no_such_parameter": 1},
        {"max_attempts": "4"},
        {"max_attempts": True},
        {"max_attempts": 0},
        {"work_share_bp": 2000},
        {"dividends_bp": 5000},
        {"work_share_bp": 4250, "dividends_bp": 4250},
    ],
)
def test_operation_validates_every_value(app, board, values):
    with app.test_request_context(), pytest.raises(InvalidParameters) as raised:
        update_parameters(board, values)
    assert set(raised.value.errors) & (set(values) | {"dividends_bp"})
    assert nothing_saved()


def test_operation_merges_over_what_is_stored(board):
    update_parameters(board, {"work_share_bp": 5000})
    new = update_parameters(board, {"dividends_bp": 1500})
    assert (new.work_share_bp, new.dividends_bp, new.development_reserve_bp) == (5000, 1500, 2000)
    assert Event.select().where(Event.kind == "parameters.changed").count() == 2


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("pay_floor_cents_per_hour", "12", 1200),
        ("pay_floor_cents_per_hour", "12.5", 1250),
        ("margin_bp", "7,5", 750),
        ("margin_bp", "0.01", 1),
        ("max_active_tasks", " 3 ", 3),
    ],
)
def test_parse_and_display_round_trip(name, text, value):
    assert parse(name, text) == value
    assert parse(name, display(name, value)) == value
