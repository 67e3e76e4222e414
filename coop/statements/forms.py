"""Forms of the statements page (Flask-WTF: every one carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from coop.money import parse_cents


class ExpenseForm(FlaskForm):
    label = StringField(_l("Expense"), validators=[DataRequired(), Length(max=120)])
    amount = StringField(
        _l("Amount (€)"), validators=[DataRequired(), Length(max=20)],
        description=_l("For example 120.50"),
    )

    def validate_amount(self, field):
        try:
            cents = parse_cents(field.data)
        except ValueError:
            raise ValidationError(_l("Write an amount in euros, like 120.50."))
        if cents <= 0:
            raise ValidationError(_l("An expense is more than €0.00."))
        self.amount_cents = cents


class CloseForm(FlaskForm):
    """Only the CSRF token: the month is in the URL."""
