"""Delivery forms (Flask-WTF: every one carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, MultipleFileField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from coop.auth.forms import EmptyForm, ReasonForm
from coop.delivery.operations import MAX_MINUTES_SPENT, MIN_MINUTES_SPENT
from coop.models import RejectionCategory

__all__ = [
    "DeliverForm",
    "EmptyForm",
    "ReasonForm",
    "RejectForm",
    "RejectionDecisionForm",
    "ResolveForm",
]

REJECTION_CATEGORY_LABELS = {
    RejectionCategory.INCOMPLETE: _l("Incomplete: part of the work is missing"),
    RejectionCategory.WRONG: _l("Wrong: the work does not follow the instructions"),
    RejectionCategory.LATE: _l("Late: delivered after the deadline"),
    RejectionCategory.OTHER: _l("Other (say what in the reason)"),
}
assert set(REJECTION_CATEGORY_LABELS) == set(RejectionCategory)  # noqa: S101 (needs a label)


class DeliverForm(FlaskForm):
    files = MultipleFileField(_l("Files"))
    note = TextAreaField(
        _l("Note for the client"), validators=[Optional(), Length(max=5000)]
    )
    minutes_spent = IntegerField(
        _l("Minutes you actually spent"),
        validators=[
            InputRequired(_l("Say how many minutes you actually spent, as a whole number.")),
            NumberRange(
                MIN_MINUTES_SPENT,
                MAX_MINUTES_SPENT,
                _l("State the minutes you spent, from %(min)s to %(max)s."),
            ),
        ],
    )

    def validate_files(self, field):
        # A file input left empty still sends one part, with an empty filename.
        if not any(upload and upload.filename for upload in field.data or []):
            raise ValidationError(_l("Attach at least one file."))


class ResolveForm(FlaskForm):
    outcome = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("upheld", _l("Uphold: the delivery is accepted and the member is paid")),
            SelectChoice(
                "dismissed", _l("Dismiss: the rejection stands and the task reopens to others")
            ),
        ],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class RejectForm(FlaskForm):
    category = RadioField(
        _l("What kind of problem"),
        choices=[SelectChoice(str(k), v) for k, v in REJECTION_CATEGORY_LABELS.items()],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class RejectionDecisionForm(FlaskForm):
    outcome = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("confirmed", _l("Confirm: the rejection takes effect")),
            SelectChoice(
                "overturned", _l("Overturn: the delivery is accepted and the member is paid")
            ),
        ],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
