"""Quality forms (Flask-WTF: every one carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FileField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from coop.projects.forms import ProjectForm
from coop.quality.aggregate import Method
from coop.quality.models import ContestState, FindingState, FraudKind
from coop.quality.operations import MAX_REASON

CONTEST_LABELS = {
    ContestState.OPEN: _l("waiting for the client"),
    ContestState.UPHELD: _l("the client kept the expected answer (you may appeal)"),
    ContestState.APPEALED: _l("appealed: waiting for the board"),
    ContestState.APPEAL_UPHELD: _l("the board kept the expected answer"),
    ContestState.FOUND_WRONG: _l("the expected answer was wrong: gold item removed"),
}

METHOD_LABELS = {
    Method.MAJORITY: _l("majority vote"),
    Method.DAWID_SKENE: _l("Dawid–Skene"),
    Method.MOST_SIMILAR: _l("the answer most similar to the others"),
}


class RulesForm(FlaskForm):
    gold_rate_pct = IntegerField(
        _l("Share of items that are gold (%)"), validators=[InputRequired(), NumberRange(0, 100)]
    )
    threshold_pct = IntegerField(
        _l("Accuracy threshold (%; 0 for none)"),
        validators=[InputRequired(), NumberRange(0, 100)],
    )
    min_gold_answers = IntegerField(
        _l("Gold answers before the threshold applies"),
        validators=[InputRequired(), NumberRange(1, 1000)],
    )


class ContestForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the expected answer is wrong"),
        validators=[DataRequired(), Length(max=MAX_REASON)],
    )


class DecideForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("wrong", _l("The expected answer was wrong: remove this gold item")),
            SelectChoice("upheld", _l("The expected answer stands")),
        ],
        validators=[InputRequired()],
    )
    note = TextAreaField(
        _l("Why (the member reads it)"), validators=[DataRequired(), Length(max=MAX_REASON)]
    )


class QualificationForm(FlaskForm):
    """A qualification and its test: the template fields of a project, the rules, the items."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("What it shows (members read it before the test)"),
                                validators=[DataRequired(), Length(max=2000)])
    instructions = TextAreaField(_l("Instructions (shown beside every test item)"),
                                 validators=[DataRequired(), Length(max=10_000)])
    kind = ProjectForm.kind
    config = ProjectForm.config
    estimated_seconds = IntegerField(_l("Estimated seconds per item"),
                                     validators=[InputRequired(), NumberRange(1, 3600)])
    pass_mark = IntegerField(_l("Pass mark (% of the items right)"),
                             validators=[InputRequired(), NumberRange(1, 100)])
    validity_days = IntegerField(_l("Valid for (days)"),
                                 validators=[InputRequired(), NumberRange(1, 3650)])
    retake_days = IntegerField(_l("Wait before a retake (days)"),
                               validators=[InputRequired(), NumberRange(0, 3650)])
    items = FileField(_l("Test items with their gold answers (.csv or .jsonl)"))
    media = FileField(_l("Media (.zip, optional)"))

    template = ProjectForm.template


class RequireForm(FlaskForm):
    qualification = SelectField(_l("Qualification"), coerce=int, validate_choice=True)


FRAUD_KIND_LABELS = {
    FraudKind.BOT: _l("a bot: answers made by a program"),
    FraudKind.COPY_PASTE: _l("copy-paste: the same or copied answers again and again"),
    FraudKind.OTHER: _l("other (say what in the reason)"),
}

FINDING_LABELS = {
    FindingState.OPEN: _l("waiting for the board"),
    FindingState.UPHELD: _l("upheld: the answers are voided and their pay taken back"),
    FindingState.DISMISSED: _l("dismissed: nothing changes"),
}


class ReportFraudForm(FlaskForm):
    member = StringField(_l("The member's pseudonym (as in the results)"),
                         validators=[DataRequired(), Length(max=32)])
    kind = RadioField(_l("What kind of fraud"),
                      choices=[SelectChoice(k.value, label) for k, label in
                               FRAUD_KIND_LABELS.items()],
                      validators=[InputRequired()])
    reason = TextAreaField(_l("Why you believe it (the member and the board read it)"),
                           validators=[DataRequired(), Length(max=MAX_REASON)])
    since = DateField(_l("Only the answers given from this day (empty: all of them)"),
                      validators=[Optional()])


class FindingAnswerForm(FlaskForm):
    text = TextAreaField(_l("Your answer to the board"),
                         validators=[DataRequired(), Length(max=MAX_REASON)])


class FraudDecideForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("upheld", _l("Uphold: void the answers and take back their pay")),
            SelectChoice("dismissed", _l("Dismiss: nothing changes")),
        ],
        validators=[InputRequired()],
    )
    note = TextAreaField(_l("Why (the member and the reporter read it)"),
                         validators=[DataRequired(), Length(max=MAX_REASON)])
