"""The form of the capital register: one movement at a time."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from coop.capital.operations import MAX_NOTE
from coop.market.forms import MoneyField, PositiveMoney

KIND_LABELS = {
    "subscription": _l("Subscription (shares subscribed, not yet paid)"),
    "release": _l("Release (subscribed shares paid up)"),
    "transfer_out": _l("Transfer to another member"),
    "redemption": _l("Redemption (shares repaid)"),
}


class MovementForm(FlaskForm):
    kind = SelectField(_l("Movement"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()],
                       validators=[InputRequired()])
    member = IntegerField(_l("Member (id)"), validators=[InputRequired()])
    amount = MoneyField(_l("Amount (€)"), validators=[InputRequired(), PositiveMoney()])
    counterparty = IntegerField(_l("Receiving member (id), for a transfer"),
                                validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE)])
