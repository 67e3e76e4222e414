"""Item templates as data: each kind's configuration is validated with a message saying what
is wrong, and every answer is checked against its template (unknown label, one label when
one is wanted, the reason some labels need, lengths, the checklist) before it is stored."""

import pytest
from werkzeug.datastructures import MultiDict

from coop.errors import DomainError
from coop.projects.templates import Media, item_fields, parse_answer, validate_config

GOOD = {
    "classify": {"kind": "classify", "text_field": "comment", "image_field": "photo",
                 "labels": ["keep", "remove", "unsure"], "multiple": True,
                 "reason_for": ["remove"]},
    "compare": {"kind": "compare", "media": "text", "left_field": "query",
                "right_field": "result", "scale": ["Exact", "Close", "Related", "Unrelated"]},
    "transcribe": {"kind": "transcribe", "media": "audio", "field": "clip", "min_length": 1,
                   "max_length": 500},
    "check": {"kind": "check", "image_field": "scan", "checks": ["name", "expiry"],
              "extract": True},
    "text": {"kind": "text", "field": "source", "min_length": 10, "max_length": 200},
}

BAD = [
    ({"kind": "poll"}, "Choose a template kind"),
    ({"kind": "classify", "labels": ["a", "b"]}, "text field, an image field or both"),
    ({"kind": "classify", "text_field": "t", "labels": ["only"]}, "between 2 and 20"),
    ({"kind": "classify", "text_field": "t", "labels": [str(i) for i in range(21)]},
     "between 2 and 20"),
    ({"kind": "classify", "text_field": "t", "labels": ["a", "a"]}, "once"),
    ({"kind": "classify", "text_field": "t", "labels": ["a", "b"], "reason_for": ["c"]},
     "labels of the list"),
    ({"kind": "classify", "text_field": "bad name!", "labels": ["a", "b"]}, "underscores"),
    ({"kind": "compare", "left_field": "q", "right_field": "q", "scale": ["x", "y"]},
     "different fields"),
    ({"kind": "compare", "media": "audio", "left_field": "a", "right_field": "b",
      "scale": ["x", "y"]}, "Show the item as one of"),
    ({"kind": "transcribe", "field": "clip", "min_length": 50, "max_length": 10},
     "minimum ≤ maximum"),
    ({"kind": "transcribe", "media": "text", "field": "clip"}, "Show the item as one of"),
    ({"kind": "check", "image_field": "scan", "checks": []}, "between 1 and 30"),
    ({"kind": "text", "field": "external_id"}, "external_id names the item"),
    (["not", "an", "object"], "JSON object"),
]


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_every_kind_validates(kind):
    config = validate_config(GOOD[kind])
    assert config["kind"] == kind
    assert validate_config(config) == config  # the normal form is stable


@pytest.mark.parametrize(("template", "message"), BAD)
def test_a_bad_configuration_says_what_is_wrong(template, message):
    with pytest.raises(DomainError, match=message) as refused:
        validate_config(template)
    assert refused.value.field == "template"


def test_item_fields_name_what_each_kind_shows():
    assert item_fields(validate_config(GOOD["classify"])) == {
        "comment": Media.TEXT, "photo": Media.IMAGE}
    assert item_fields(validate_config(GOOD["transcribe"])) == {"clip": Media.AUDIO}
    assert item_fields(validate_config(GOOD["check"])) == {"scan": Media.IMAGE}


def answer(kind, **values):
    form = MultiDict()
    for key, value in values.items():
        for v in value if isinstance(value, list) else [value]:
            form.add(key, v)
    return parse_answer(validate_config(GOOD[kind]), form)


def test_classify_answers():
    assert answer("classify", label=["keep", "unsure"]) == {"labels": ["keep", "unsure"]}
    assert answer("classify", label=["remove"], reason=" spam ") == {
        "labels": ["remove"], "reason": "spam"}
    single = validate_config({**GOOD["classify"], "multiple": False})
    with pytest.raises(DomainError, match="Choose one label"):
        parse_answer(single, MultiDict([("label", "keep"), ("label", "unsure")]))
    for values, message in [
        ({}, "Choose a label"),
        ({"label": ["delete"]}, "among the labels"),
        ({"label": ["remove"]}, "reason needs at least"),
        ({"label": ["remove"], "reason": "x" * 2001}, "at most 2000"),
    ]:
        with pytest.raises(DomainError, match=message):
            answer("classify", **values)


def test_compare_transcribe_and_text_answers():
    assert answer("compare", choice="Close") == {"choice": "Close"}
    with pytest.raises(DomainError, match="point of the scale"):
        answer("compare", choice="Same")
    assert answer("transcribe", text="hello") == {"text": "hello"}
    with pytest.raises(DomainError, match="at most 500"):
        answer("transcribe", text="a" * 501)
    with pytest.raises(DomainError, match="at least 10"):
        answer("text", text="short")


def test_check_answers():
    assert answer("check", check_name="yes", text_name="Ada Lovelace", check_expiry="no") == {
        "name": "yes", "name_text": "Ada Lovelace", "expiry": "no"}
    with pytest.raises(DomainError, match="for expiry"):
        answer("check", check_name="yes", check_expiry="maybe")
