"""Market forms: posting a task, bidding, and the board's filters (a GET form, no CSRF)."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from coop.inputs import PageField, SaneDate
from coop.labels import CATEGORY_LABELS
from coop.market import operations as ops
from coop.market import search
from coop.models import CATEGORIES, BidState, Pricing, TaskState
from coop.money import parse_cents

PRICING_LABELS = {Pricing.FIXED: _l("Fixed price"), Pricing.BIDS: _l("Open to bids")}

STATE_LABELS = {
    TaskState.OPEN: _l("Open"),
    TaskState.ASSIGNED: _l("Assigned"),
    TaskState.DELIVERED: _l("Delivered"),
    TaskState.REJECTED: _l("Rejected"),
    TaskState.DISPUTED: _l("Disputed"),
    TaskState.COMPLETED: _l("Completed"),
    TaskState.CANCELLED: _l("Cancelled"),
}

BID_STATE_LABELS = {
    BidState.LIVE: _l("Live"),
    BidState.WITHDRAWN: _l("Withdrawn"),
    BidState.AWARDED: _l("Awarded"),
    BidState.NOT_SELECTED: _l("Not selected"),
}

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def to_utc(local: datetime | None, tzname: str) -> datetime | None:
    """Read a naive datetime typed in the timezone tzname; return it as naive UTC."""
    if local is None:
        return None
    try:
        zone = ZoneInfo(tzname or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


class MoneyField(StringField):
    """An amount in euros ('12', '12.50' or '12,50'), as integer cents in .data."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_cents(valuelist[0])
            except ValueError:
                raise ValueError(_l("Enter an amount in euros, like 12.50.")) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data // 100}.{self.data % 100:02d}"


class PositiveMoney:
    """Refuse zero (parse_cents already refuses negative amounts and text)."""

    def __call__(self, form, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(_l("Enter an amount greater than zero."))


class TaskForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=ops.MAX_TITLE)])
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(max=ops.MAX_DESCRIPTION)]
    )
    instructions = TextAreaField(
        _l("Instructions"), validators=[Optional(), Length(max=ops.MAX_INSTRUCTIONS)]
    )
    category = SelectField(
        _l("Category"), choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in CATEGORIES]
    )
    attachments = MultipleFileField(_l("Input files (optional)"))
    estimated_minutes = IntegerField(
        _l("Estimated minutes of work"),
        validators=[InputRequired(), NumberRange(min=1, max=ops.MAX_MINUTES)],
    )
    deadline = DateTimeLocalField(
        _l("Delivery deadline (your time zone)"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(), SaneDate()],
    )
    sensitive = BooleanField(_l("Sensitive content (violence, explicit material, …)"))
    content_note = StringField(
        _l("Content note (required for sensitive content)"),
        validators=[Length(max=ops.MAX_CONTENT_NOTE)],
    )
    pricing = RadioField(
        _l("Pricing"),
        choices=[
            SelectChoice("fixed", _l("Fixed price: the first member to claim it gets it")),
            SelectChoice("bids", _l("Open to bids: you choose among the bids")),
        ],
        default=Pricing.FIXED.value,
    )
    price = MoneyField(_l("Price (€), for a fixed price"), validators=[PositiveMoney()])
    budget = MoneyField(_l("Budget ceiling (€), for bids"), validators=[PositiveMoney()])
    bidding_deadline = DateTimeLocalField(
        _l("Bidding deadline (your time zone), for bids"),
        format=DATETIME_FORMAT,
        validators=[Optional(), SaneDate()],
    )

    # Each pricing mode's own fields: the page shows only the chosen mode's, so the other's
    # (left filled in, or mistyped, before switching) are ignored rather than refused.
    MODE_FIELDS = {Pricing.FIXED: ("price",), Pricing.BIDS: ("budget", "bidding_deadline")}

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        for mode, names in self.MODE_FIELDS.items():
            if self.pricing.data != mode:
                for name in names:
                    self[name].data, self[name].errors = None, []
        ok = not self.form_errors and not any(field.errors for field in self)
        if self.pricing.data == Pricing.FIXED and self.price.data is None and not self.price.errors:
            self.price.errors.append(_l("Enter the price."))
            ok = False
        if self.pricing.data == Pricing.BIDS:
            if self.budget.data is None and not self.budget.errors:
                self.budget.errors.append(_l("Enter the budget ceiling."))
                ok = False
            if self.bidding_deadline.data is None and not self.bidding_deadline.errors:
                self.bidding_deadline.errors.append(_l("Enter the bidding deadline."))
                ok = False
        return ok


class RaisePriceForm(FlaskForm):
    amount = MoneyField(_l("New amount (€)"), validators=[InputRequired(), PositiveMoney()])


class BidForm(FlaskForm):
    amount = MoneyField(_l("Your price (€)"), validators=[InputRequired(), PositiveMoney()])
    eta_hours = IntegerField(
        _l("Delivered within (hours)"),
        validators=[InputRequired(), NumberRange(min=1, max=ops.MAX_ETA_HOURS)],
    )
    note = TextAreaField(_l("Short note"), validators=[Optional(), Length(max=ops.MAX_BID_NOTE)])


def _translated(pairs):
    """Return choices that translate their labels once per form (a lazy label is translated
    again each time it is escaped, which adds up on the board's every request)."""
    return lambda: [SelectChoice(value, str(label)) for value, label in pairs]


class BoardFilterForm(FlaskForm):
    """The board's filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search titles and descriptions"),
        validators=[Optional(), Length(max=search.MAX_QUERY_LENGTH)],
        filters=[lambda value: (value or "").strip()],
    )
    category = SelectField(
        _l("Category"),
        choices=_translated(
            [("", _l("All categories"))] + [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]
        ),
        default="",
    )
    pricing = SelectField(
        _l("Pricing"),
        choices=_translated(
            [("", _l("Any pricing")), ("fixed", _l("Fixed price")), ("bids", _l("Bids"))]
        ),
        default="",
    )
    sensitive = SelectField(
        _l("Sensitive content"),
        choices=_translated(
            [("", _l("Any")), ("no", _l("Not sensitive")), ("yes", _l("Sensitive only"))]
        ),
        default="",
    )
    sort = SelectField(
        _l("Sort by"),
        choices=_translated(
            [("pay", _l("Pay per hour")), ("deadline", _l("Deadline")), ("newest", _l("Newest"))]
        ),
        default="pay",
    )
    page = PageField(_l("Page"), maximum=100_000)

    def filters(self) -> ops.BoardFilters:
        return ops.BoardFilters(
            q=self.q.data or "",
            category=self.category.data or "",
            pricing=self.pricing.data or "",
            sensitive=self.sensitive.data or "",
            sort=self.sort.data or "pay",
        )
