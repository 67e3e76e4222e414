"""The verify-a-file form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class VerifyFileForm(FlaskForm):
    file = FileField(_l("A file"), validators=[FileRequired(_l("Choose a file to check."))])
