"""Forms of the notification pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class EmptyForm(FlaskForm):
    """A button: only the CSRF token."""


class PreferencesForm(FlaskForm):
    email_kinds = SelectMultipleField(
        _l("Send me an e-mail when"),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,  # the operation says which kinds this person may choose
    )
