"""Input every route shares, checked in one place: control characters, page numbers, ids, dates.

Each check refuses with a 400 (or, for an id no row can have, a 404) and a message, before any
operation runs, so bad input changes nothing and never reaches the database as a 500.
"""

import re
from datetime import datetime

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField
from wtforms.validators import ValidationError

from coop.errors import DomainError

# Ids are 64-bit signed integers on both backends; a bigger one cannot name a row.
MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000
# C0 controls but tab, LF and CR: PostgreSQL refuses NUL in text, and none is ever typed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# RFC 6838 type/subtype names, within the column's 127 characters.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
DEFAULT_MEDIA_TYPE = "application/octet-stream"
# Dates people type: a deadline before 2000 or after 2999 is a typo, and year 1 overflows
# the conversion to UTC.
EARLIEST = datetime(2000, 1, 1)
LATEST = datetime(2999, 12, 31, 23, 59)


class IdConverter(IntegerConverter):
    """`<id:name>`: a decimal id from 1 to 2^63-1; anything else matches no route (404)."""

    def __init__(self, map, min=1, max=MAX_ID):  # noqa: A002 - werkzeug's argument names
        super().__init__(map, min=min, max=max)


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _strings(value):
    """Yield every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _request_strings():
    yield from request.args.keys()
    for values in request.args.listvalues():
        yield from values
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        yield from request.form.keys()
        for values in request.form.listvalues():
            yield from values
        for upload in request.files.values():
            yield upload.filename or ""
        if request.is_json:
            yield from _strings(request.get_json(silent=True))


def refuse_control_characters() -> None:
    """Refuse a request with a control character in a query argument, form field or JSON.

    :raises DomainError: 400, before any view runs.
    """
    if any(has_control_characters(text) for text in _request_strings()):
        raise DomainError(
            _("Text may not contain control characters (such as a NUL byte); "
              "nothing was changed.")
        )


def parse_whole_number(raw: str | None, name: str, default: int | None = None,
                       minimum: int = 0, maximum: int = MAX_ID) -> int:
    """Parse a decimal query argument from minimum to maximum, or raise a 400 naming it."""
    if raw is None and default is not None:
        return default
    # isascii first: str.isdigit accepts '²', and a 5000-digit number is refused by int().
    valid = raw is not None and raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum))
    if not valid or not minimum <= int(raw) <= maximum:
        raise DomainError(
            _("%(name)s must be a whole number from %(min)s to %(max)s.",
              name=name, min=minimum, max=maximum)
        )
    return int(raw)


def parse_page(raw: str | None, maximum: int = MAX_PAGE) -> int:
    """Parse a `page` argument (1 when absent); every paginated page and API route uses it."""
    return parse_whole_number(raw, "page", 1, 1, maximum)


def safe_media_type(value: str | None) -> str:
    """Return an upload's declared content type if it is a plain type/subtype, else a safe one."""
    value = (value or "").strip().lower()
    if len(value) > 127 or not _MEDIA_TYPE.fullmatch(value):
        return DEFAULT_MEDIA_TYPE
    return value


class SaneDate:
    """A WTForms validator refusing dates before 2000 or after 2999 with a message."""

    def __call__(self, form, field):
        if field.data is not None and not EARLIEST <= field.data <= LATEST:
            raise ValidationError(_l("Enter a date between the years 2000 and 2999."))


def init_app(app) -> None:
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_control_characters)


class PageField(IntegerField):
    """A form's `page` argument, read by parse_page (a bad one is the field's error)."""

    def __init__(self, label=None, validators=None, maximum: int = MAX_PAGE, **kwargs):
        super().__init__(label, validators, default=1, **kwargs)
        self.maximum = maximum

    def process_formdata(self, valuelist):
        self.data = 1
        if valuelist and valuelist[0] != "":
            try:
                self.data = parse_page(valuelist[0], self.maximum)
            except DomainError as error:
                self.data = None
                raise ValueError(error.message) from None
