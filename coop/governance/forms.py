"""Forms of the votes: the board's proposal, a member's ballot, the board's count button."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from coop.board.forms import TEXTS, parse
from coop.governance.models import Choice, ProposalKind
from coop.governance.operations import KEYS, MAX_TITLE
from coop.market.forms import DATETIME_FORMAT

KIND_LABELS = {
    ProposalKind.ALLOCATION: _l("The annual allocation of the surplus (art. 33 split)"),
    ProposalKind.PARAMETERS: _l("The pay floor, the margin or the caps"),
    ProposalKind.STATUTES: _l("The work-share key (a change of the statutes)"),
}
CHOICE_LABELS = {
    Choice.YES: _l("For"),
    Choice.NO: _l("Against"),
    Choice.ABSTAIN: _l("Abstain"),
}
OUTCOME_LABELS = {
    "passed": _l("Passed"),
    "rejected": _l("Not passed: the majority was not reached"),
    "no_quorum": _l("Not passed: the quorum was not met"),
}


class EmptyForm(FlaskForm):
    """A button: only the CSRF token."""


class BallotForm(FlaskForm):
    choice = RadioField(
        _l("Your vote"),
        choices=[SelectChoice(choice, label) for choice, label in CHOICE_LABELS.items()],
        validators=[InputRequired(_l("Choose for, against or abstain."))],
    )


class ProposalForm(FlaskForm):
    kind = SelectField(_l("The vote decides"),
                       choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()],
                       validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=MAX_TITLE)])
    fiscal_year = IntegerField(_l("Fiscal year, for an allocation"),
                               validators=[Optional(), NumberRange(min=2000, max=2100)])
    statutory = BooleanField(_l("Hold this vote to the statutes' quorum and majority"))
    opens_at = DateTimeLocalField(_l("Opens (your time zone; empty: now)"),
                                  format=DATETIME_FORMAT, validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes (your time zone)"), format=DATETIME_FORMAT,
                                   validators=[InputRequired()])

    def change_fields(self, kind: str) -> list:
        return [self[name] for name in KEYS[ProposalKind(kind)]]

    def changes(self) -> dict[str, int] | None:
        """Return the filled values of the chosen kind, or None after marking bad fields."""
        values, bad = {}, False
        for field in self.change_fields(self.kind.data):
            if not (field.data or "").strip():
                continue
            try:
                values[field.name] = parse(field.name, field.data)
            except ValueError as error:
                field.errors = [*field.errors, str(error.args[0])]
                bad = True
        return None if bad else values


for _keys in KEYS.values():
    for _name in _keys:
        _label, _help = TEXTS.get(_name, (_name, ""))
        setattr(ProposalForm, _name, StringField(_label, description=_help,
                                                 validators=[Optional()]))
