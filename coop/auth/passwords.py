"""Passwords: hashing with scrypt (werkzeug's, salted, constant-time check) and the rules a new
password must meet, each refusal saying why."""

import functools
import re

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from coop.errors import DomainError

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_DISTINCT_CHARACTERS = 5
_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\d\W_]+$")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def check_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of public breaches, as zxcvbn ships them."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, email: str) -> str | None:
    """Return why password is not good enough for the account with this e-mail, or None."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    # "password2026!" is the common "password" with the year: attackers try both.
    stem = _TRAILING_DIGITS_AND_SYMBOLS.sub("", lowered)
    common = _common_passwords()
    if lowered in common or (len(stem) >= 4 and stem in common):
        return _("This password is one of the most common ones, which attackers try first.")
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        return _("This password repeats too few different characters to be hard to guess.")
    address = (email or "").strip().lower()
    local = address.partition("@")[0]
    if address and (address in lowered or (len(local) >= 3 and local in lowered)):
        return _("The password must not contain your e-mail address or its name part.")
    return None


def check_new_password(password: str, email: str) -> None:
    """Refuse a new password that is too short, common or made of the e-mail address.

    :raises DomainError: on the "password" field, saying why.
    """
    problem = password_problem(password or "", email)
    if problem is not None:
        raise DomainError(problem, field="password")
