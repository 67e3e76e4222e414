"""Outgoing mail: `send(to, subject, body)` through SMTP, or into the outbox folder offline.

COOP_SMTP_URL names the server: smtp://user:password@host:587?starttls=1, or smtps://… for TLS
from the first byte. Without one (the embedded default) each message is written as an .eml file
to instance/outbox/ (owner-only), so `make run` works offline and a developer can read it.
Messages may hold secrets (a reset link): nothing here logs a body.
"""

import os
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, url_for

from coop.instance import FILE_MODE, make_private_folder

TIMEOUT_SECONDS = 15


class MailNotSent(Exception):
    """The SMTP server could not be reached or refused the message."""


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to one address.

    :raises MailNotSent: the SMTP server failed; the caller decides whether that matters.
    """
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    sender_domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=sender_domain or None)
    message.set_content(body)
    url = current_app.config["SMTP_URL"]
    if url:
        _send_smtp(url, message)
    else:
        _write_outbox(Path(current_app.config["INSTANCE_DIR"]) / "outbox", message)


def link(endpoint: str, **values) -> str:
    """Return an absolute link for a message, on COOP_BASE_URL: the request's Host header is
    the sender's to choose, and a reset link must never point at their site."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailNotSent(f"COOP_SMTP_URL must be smtp:// or smtps://host, not {parts.scheme}://")
    starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
    context = ssl.create_default_context()
    try:
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(
                parts.hostname, parts.port or 465, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            server = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=TIMEOUT_SECONDS)
        with server:
            if starttls:
                server.starttls(context=context)
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        # The error names the server's complaint, never the message.
        raise MailNotSent(f"{parts.hostname}: {error.__class__.__name__}: {error}") from None


def _write_outbox(folder: Path, message: EmailMessage) -> Path:
    make_private_folder(folder)
    path = folder / f"{uuid.uuid4().hex}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(message.as_bytes())
    return path
