"""Opening an account from the web without telling anyone which e-mails already have one.

A new address gets its account and a welcome message; a taken one gets a "you already have
an account" message and nothing is created. The page answers the same in both cases, and
both cost one scrypt hash.
"""

import logging
from collections.abc import Callable

import peewee
from flask_babel import gettext as _

from coop import mail
from coop.auth.operations import EmailTaken
from coop.auth.passwords import hash_password
from coop.models import User

log = logging.getLogger(__name__)


def open_account(create: Callable[[], User], email: str, links: dict[str, str]) -> None:
    """Call create(); mail the address what happened. links holds absolute "login" and
    "forgot" URLs for the messages.

    :raises DomainError: the form's values break a rule (the same for every address).
    """
    email = email.strip().lower()
    try:
        create()
    except (EmailTaken, peewee.IntegrityError):
        hash_password("same cost as creating")  # the answer must not come back faster
        subject = _("You already have a Coop account")
        body = _(
            "Someone, probably you, tried to open a Coop account with this address, which "
            "already has one. Nothing was changed.\n\n"
            "Sign in: %(login)s\nForgot your password? Choose a new one: %(forgot)s\n\n"
            "If it was not you, ignore this message.",
            **links,
        )
    else:
        subject = _("Welcome to Coop")
        body = _(
            "Your Coop account is ready. Sign in with the password you chose: %(login)s\n\n"
            "If you did not open it, choose a new password here and write to us: %(forgot)s",
            **links,
        )
    try:
        mail.send(email, subject, body)
    except mail.MailNotSent as error:
        log.error("sign-up mail not sent: %s", error)
