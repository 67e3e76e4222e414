"""Item templates as data: each kind's configuration, the item fields it shows, its answers.

A project stores its template as JSON, {"kind": ..., configuration}; `validate_config` checks
it when the project is created, `parse_answer` turns a submitted form into the answer object
and refuses what the template does not allow. Answers are flat JSON objects whose values are
strings, booleans, integers or lists of strings (never floats): see `answer_bytes`.
"""

import enum
from collections.abc import Mapping

from flask_babel import gettext as _

from coop.errors import DomainError

# The answer's canonical bytes and hash are the ledger's definition, which verifiers share.
from ledger.results import answer_bytes, answer_sha256  # noqa: F401 - re-exported

MAX_LABEL = 80
MAX_FIELD_NAME = 40
MAX_REASON = 2000
MAX_TEXT = 20000
CHECK_VALUES = ("yes", "no", "unreadable")


class Kind(enum.StrEnum):
    CLASSIFY = "classify"
    COMPARE = "compare"
    TRANSCRIBE = "transcribe"
    CHECK = "check"
    TEXT = "text"


class Media(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"


def _bad(message: str) -> DomainError:
    return DomainError(message, field="template")


def _name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(_("The template needs the item field name for %(what)s.", what=what))
    value = value.strip()
    if len(value) > MAX_FIELD_NAME or not value.replace("_", "").isalnum():
        raise _bad(
            _(
                "Field names are letters, digits and underscores, at most %(max)s "
                "characters: %(name)s is not.",
                max=MAX_FIELD_NAME,
                name=value[:60],
            )
        )
    if value == "external_id":
        raise _bad(_("external_id names the item; show another field."))
    return value


def _labels(value, what: str, low: int, high: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(_("%(what)s must be a list of labels.", what=what))
    labels = [v.strip() for v in value]
    if not low <= len(labels) <= high:
        raise _bad(
            _("%(what)s needs between %(low)s and %(high)s labels.", what=what, low=low,
              high=high)
        )
    if any(not v or len(v) > MAX_LABEL for v in labels):
        raise _bad(_("Each label has 1 to %(max)s characters.", max=MAX_LABEL))
    if len(set(labels)) != len(labels):
        raise _bad(_("Each label appears once."))
    return labels


def _lengths(config: Mapping) -> tuple[int, int]:
    low, high = config.get("min_length", 1), config.get("max_length", 2000)
    if (
        not isinstance(low, int) or not isinstance(high, int)
        or isinstance(low, bool) or isinstance(high, bool)
        or not 0 <= low <= high <= MAX_TEXT or high < 1
    ):
        raise _bad(
            _("Lengths: 0 ≤ minimum ≤ maximum ≤ %(max)s characters.", max=MAX_TEXT)
        )
    return low, high


def _media(value, allowed: tuple[Media, ...]) -> Media:
    if value not in [m.value for m in allowed]:
        raise _bad(
            _("Show the item as one of: %(kinds)s.", kinds=", ".join(m.value for m in allowed))
        )
    return Media(value)


def validate_config(template) -> dict:
    """Return the template in its normal form, or raise DomainError saying what is wrong."""
    if not isinstance(template, Mapping):
        raise _bad(_("The template must be a JSON object with a kind."))
    kind = template.get("kind")
    if kind not in [k.value for k in Kind]:
        raise _bad(
            _("Choose a template kind: %(kinds)s.", kinds=", ".join(k.value for k in Kind))
        )
    if kind == Kind.CLASSIFY:
        text = template.get("text_field") or None
        image = template.get("image_field") or None
        if text is None and image is None:
            raise _bad(_("A classify template shows a text field, an image field or both."))
        labels = _labels(template.get("labels"), _("Labels"), 2, 20)
        reason_for = template.get("reason_for") or []
        if not isinstance(reason_for, list) or any(r not in labels for r in reason_for):
            raise _bad(_("A reason can only be asked for labels of the list."))
        return {
            "kind": kind,
            "text_field": _name(text, _("the text")) if text else None,
            "image_field": _name(image, _("the image")) if image else None,
            "labels": labels,
            "multiple": bool(template.get("multiple", False)),
            "reason_for": list(reason_for),
        }
    if kind == Kind.COMPARE:
        media = _media(template.get("media", "text"), (Media.TEXT, Media.IMAGE))
        left = _name(template.get("left_field"), _("the left side"))
        right = _name(template.get("right_field"), _("the right side"))
        if left == right:
            raise _bad(_("The two sides show different fields."))
        return {
            "kind": kind,
            "media": media.value,
            "left_field": left,
            "right_field": right,
            "scale": _labels(template.get("scale"), _("The scale"), 2, 10),
        }
    if kind in (Kind.TRANSCRIBE, Kind.TEXT):
        low, high = _lengths(template)
        if kind == Kind.TRANSCRIBE:
            media = _media(template.get("media", "audio"), (Media.AUDIO, Media.IMAGE))
        else:
            media = Media.TEXT
        return {
            "kind": kind,
            "media": media.value,
            "field": _name(template.get("field"), _("the item")),
            "min_length": low,
            "max_length": high,
        }
    # Kind.CHECK
    checks = _labels(template.get("checks"), _("The checklist"), 1, 30)
    for check in checks:
        _name(check, _("a check"))
    return {
        "kind": kind,
        "image_field": _name(template.get("image_field"), _("the document")),
        "checks": checks,
        "extract": bool(template.get("extract", False)),
    }


def item_fields(template: dict) -> dict[str, Media]:
    """Return the item fields the template shows, each with how it is shown."""
    kind = template["kind"]
    if kind == Kind.CLASSIFY:
        fields = {}
        if template["text_field"]:
            fields[template["text_field"]] = Media.TEXT
        if template["image_field"]:
            fields[template["image_field"]] = Media.IMAGE
        return fields
    if kind == Kind.COMPARE:
        media = Media(template["media"])
        return {template["left_field"]: media, template["right_field"]: media}
    if kind in (Kind.TRANSCRIBE, Kind.TEXT):
        return {template["field"]: Media(template["media"])}
    return {template["image_field"]: Media.IMAGE}


def media_fields(template: dict) -> dict[str, Media]:
    """Return the item fields that name a media file in the upload's zip."""
    return {name: m for name, m in item_fields(template).items() if m != Media.TEXT}


# -- answers ---------------------------------------------------------------------------------


def _answer_error(message: str) -> DomainError:
    return DomainError(message, field="answer")


def _text(value, low: int, high: int, what: str) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) < low:
        raise _answer_error(
            _("%(what)s needs at least %(low)s characters.", what=what, low=low)
        )
    if len(text) > high:
        raise _answer_error(_("%(what)s takes at most %(high)s characters.", what=what,
                              high=high))
    return text


def parse_answer(template: dict, form: Mapping) -> dict:
    """Read an answer from form values (a MultiDict or a dict of lists); validate it.

    :raises DomainError: with a message saying what is missing or not allowed.
    """

    def one(name: str) -> str | None:
        values = form.getlist(name) if hasattr(form, "getlist") else form.get(name, [])
        if isinstance(values, str):
            values = [values]
        return values[0] if values else None

    def many(name: str) -> list[str]:
        values = form.getlist(name) if hasattr(form, "getlist") else form.get(name, [])
        return [values] if isinstance(values, str) else list(values)

    kind = template["kind"]
    if kind == Kind.CLASSIFY:
        labels = template["labels"]
        chosen = many("label")
        if not chosen:
            raise _answer_error(_("Choose a label."))
        if any(c not in labels for c in chosen):
            raise _answer_error(_("Choose among the labels shown."))
        if len(set(chosen)) != len(chosen) or (len(chosen) > 1 and not template["multiple"]):
            raise _answer_error(_("Choose one label."))
        answer: dict = {}
        if template["multiple"]:
            answer["labels"] = sorted(chosen, key=labels.index)
        else:
            answer["label"] = chosen[0]
        if any(c in template["reason_for"] for c in chosen):
            answer["reason"] = _text(one("reason"), 1, MAX_REASON, _("The reason"))
        return answer
    if kind == Kind.COMPARE:
        choice = one("choice")
        if choice not in template["scale"]:
            raise _answer_error(_("Choose a point of the scale."))
        return {"choice": choice}
    if kind in (Kind.TRANSCRIBE, Kind.TEXT):
        return {
            "text": _text(
                one("text"), template["min_length"], template["max_length"], _("The answer")
            )
        }
    answer = {}
    for check in template["checks"]:
        value = one(f"check_{check}")
        if value not in CHECK_VALUES:
            raise _answer_error(
                _("Answer yes, no or unreadable for %(check)s.", check=check)
            )
        answer[check] = value
        if template["extract"]:
            extracted = (one(f"text_{check}") or "").strip()
            if len(extracted) > MAX_LABEL * 4:
                raise _answer_error(_("Extracted text takes at most %(max)s characters.",
                                      max=MAX_LABEL * 4))
            if extracted:
                answer[f"{check}_text"] = extracted
    return answer
