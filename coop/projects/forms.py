"""Project forms (Flask-WTF: every one carries a CSRF token)."""

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FileField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from coop.auth.forms import EmptyForm
from coop.market.forms import DATETIME_FORMAT, MoneyField, PositiveMoney
from coop.projects import operations as ops
from coop.projects.templates import Kind

__all__ = ["EmptyForm", "PriceForm", "ProjectForm", "RejectForm", "SkipForm", "UploadForm"]

KIND_LABELS = {
    Kind.CLASSIFY: _l("Classify: choose labels (moderation, categories)"),
    Kind.COMPARE: _l("Compare: judge two texts or images on a scale"),
    Kind.TRANSCRIBE: _l("Transcribe: audio or an image to text"),
    Kind.CHECK: _l("Check: a document against a checklist"),
    Kind.TEXT: _l("Text: rewrite, summarise or translate"),
}

SKIP_LABELS = {
    "unclear": _l("The item or the instructions are unclear"),
    "distressing": _l("The content is distressing to me"),
    "broken_media": _l("The image or audio does not load"),
}

REJECT_LABELS = {
    "wrong": _l("Wrong answer"),
    "instructions": _l("Instructions not followed"),
    "incomplete": _l("Incomplete"),
    "spam": _l("Not a real answer"),
}

STATE_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "paused": _l("Paused"),
    "finished": _l("Finished"),
    "cancelled": _l("Cancelled"),
}

ANSWER_STATE_LABELS = {
    "pending": _l("Waiting for review"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "voided": _l("Voided (fraud upheld)"),
}


class ProjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=ops.MAX_TITLE)])
    instructions = TextAreaField(
        _l("Instructions (shown beside every item)"),
        validators=[DataRequired(), Length(max=ops.MAX_INSTRUCTIONS)],
    )
    kind = SelectField(
        _l("Template"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()]
    )
    config = TextAreaField(
        _l("Template configuration (JSON)"),
        validators=[DataRequired(), Length(max=20_000)],
        description=_l('For example {"text_field": "comment", "labels": ["keep", "remove"], '
                       '"reason_for": ["remove"]}: see the client guide for each kind.'),
    )
    price = MoneyField(_l("Price per answer (€)"), validators=[InputRequired(), PositiveMoney()])
    estimated_seconds = IntegerField(
        _l("Estimated seconds per item"),
        validators=[InputRequired(), NumberRange(min=1, max=ops.MAX_SECONDS)],
    )
    overlap = IntegerField(
        _l("Answers wanted per item"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=ops.MAX_OVERLAP)],
    )
    deadline = DateTimeLocalField(
        _l("Deadline (your time zone)"), format=DATETIME_FORMAT, validators=[InputRequired()]
    )
    budget = MoneyField(_l("Budget cap (€)"), validators=[InputRequired(), PositiveMoney()])
    sensitive = BooleanField(_l("Sensitive content (violence, explicit material, …)"))
    content_note = StringField(
        _l("Content note (required for sensitive content)"),
        validators=[Length(max=ops.MAX_CONTENT_NOTE)],
    )
    fair_share = BooleanField(
        _l("Fair assignment: keep the last share of the answers for members who worked less "
           "this week")
    )

    def template(self):
        """Return the template as data, or None (with an error on the field) if not JSON."""
        try:
            config = json.loads(self.config.data or "")
        except (ValueError, RecursionError):
            self.config.errors.append(_l("Write the configuration as a JSON object."))
            return None
        if not isinstance(config, dict):
            self.config.errors.append(_l("Write the configuration as a JSON object."))
            return None
        return {**config, "kind": self.kind.data}


class PriceForm(FlaskForm):
    price = MoneyField(_l("New price per answer (€)"),
                       validators=[InputRequired(), PositiveMoney()])
    budget = MoneyField(_l("New budget cap (€), if it must grow"),
                        validators=[Optional(), PositiveMoney()])


class UploadForm(FlaskForm):
    items = FileField(_l("Items (.csv or .jsonl)"))
    media = FileField(_l("Media (.zip, optional)"))


class SkipForm(FlaskForm):
    reason = RadioField(
        _l("Why skip this item?"),
        choices=[SelectChoice(k, label) for k, label in SKIP_LABELS.items()],
        validators=[InputRequired()],
    )


class RejectForm(FlaskForm):
    category = SelectField(
        _l("What is wrong"),
        choices=[SelectChoice(k, label) for k, label in REJECT_LABELS.items()],
    )
    reason = TextAreaField(
        _l("Reason (the member reads it)"), validators=[DataRequired(), Length(max=2000)]
    )


class PageForm(FlaskForm):
    class Meta:
        csrf = False

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=1_000_000)], default=1)
