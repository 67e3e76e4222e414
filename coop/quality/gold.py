"""Expected answers of gold items: read from an upload, checked against the template, matched.

A gold answer has the shape of a stored answer (`{"label": "remove"}`, `{"choice": "A"}`,
`{"text": "..."}`, `{"spelling": "no"}`); a free-text reason the template asks for is never
part of it. Text is matched with case and runs of spaces ignored.
"""

import json

from flask_babel import gettext as _

from coop.errors import DomainError
from coop.projects.templates import Kind, parse_answer

MAX_EXPLANATION = 2000
_PLACEHOLDER_REASON = "gold"  # satisfies a template that asks a reason for some labels


def _as_form(template: dict, gold: dict) -> dict[str, list[str]]:
    """Return the form a member would post to give this answer."""
    form: dict[str, list[str]] = {}
    for key, value in gold.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise ValueError
        if key in ("label", "labels"):
            form["label"] = values
        elif key in ("choice", "text"):
            form[key] = values
        elif key.endswith("_text"):
            form[f"text_{key[:-5]}"] = values
        else:
            form[f"check_{key}"] = values
    if template["kind"] == Kind.CLASSIFY:
        form["reason"] = [_PLACEHOLDER_REASON]
    return form


def parse_gold(template: dict, text: str) -> tuple[str | None, str]:
    """Return (the canonical JSON of a gold answer, "") or (None, the reason it is refused)."""
    try:
        gold = json.loads(text)
    except ValueError:
        return None, _("gold_answer is not valid JSON")
    if not isinstance(gold, dict) or not gold:
        return None, _("gold_answer must be a JSON object shaped like an answer")
    gold.pop("reason", None)
    try:
        parsed = parse_answer(template, _as_form(template, gold))
    except ValueError:
        return None, _("gold_answer must hold text values")
    except DomainError as error:
        return None, _("gold_answer does not fit the template: %(why)s", why=error.message)
    parsed.pop("reason", None)
    if set(parsed) != set(gold):
        return None, _("gold_answer must be a JSON object shaped like an answer")
    return json.dumps(parsed, sort_keys=True, ensure_ascii=False), ""


def _norm(value):
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    return value


def matches(gold_json: str, answer_json: str) -> bool:
    """Say whether an answer gives the gold answer (its reason, if any, is not compared)."""
    gold, answer = json.loads(gold_json), json.loads(answer_json)
    return all(_norm(answer.get(key)) == _norm(value) for key, value in gold.items())


def correct(item, answer_json: str) -> bool | None:
    """Return whether an answer to item gives its gold answer; None when item is not gold."""
    if not item.gold_answer:
        return None
    return matches(item.gold_answer, answer_json)


def describe(answer_json: str | None) -> str:
    """Return an answer for people: "label: remove; reason: ...", in the answer's own order."""
    if not answer_json:
        return ""
    parts = []
    for key, value in json.loads(answer_json).items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)
