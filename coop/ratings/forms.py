"""The form a member rates a client with."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from coop.ratings.operations import MAX_COMMENT, MAX_STARS, MIN_STARS


class RatingForm(FlaskForm):
    stars = RadioField(
        _l("How was working for this client?"),
        choices=[SelectChoice(n, str(n)) for n in range(MIN_STARS, MAX_STARS + 1)],
        coerce=int,
        validators=[InputRequired(_l("Choose from 1 to 5 stars."))],
    )
    comment = TextAreaField(
        _l("A short comment for the coop (optional)"),
        validators=[Optional(), Length(max=MAX_COMMENT)],
    )
