"""Account operations: each takes the actor explicitly and owns its transaction."""

import secrets
from datetime import datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _

from coop import params
from coop.audit.events import record
from coop.auth.passwords import check_new_password, check_password, hash_password
from coop.auth.sessions import end_sessions
from coop.db import database, write_transaction
from coop.errors import DomainError, Forbidden, NotFound
from coop.models import MemberStatus, NotificationKind, Role, User, utcnow
from coop.notifications.operations import board_ids, notify

# Hash once so a login with an unknown email costs the same time as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(16))


def _new_pseudonym() -> str:
    return "w-" + secrets.token_hex(4)


class EmailTaken(DomainError):
    """An account with this e-mail exists (said on the CLI; the web never says it)."""


def _check_new_email(email: str) -> str:
    email = email.strip().lower()
    if User.select().where(User.email == email).exists():
        raise EmailTaken(_("An account with this email already exists."), field="email")
    return email


def create_user(email, name, password, role, member_status=None, application_note=""):
    """Create an account; members start as applicants unless a status is given."""
    if role not in set(Role):
        raise DomainError(_("Unknown role: %(role)s", role=role), field="role")
    if role in (Role.MEMBER, Role.BOARD) and member_status is None:
        member_status = MemberStatus.APPLICANT
    # The password is judged before the e-mail is looked up, so its refusal says nothing
    # about which addresses have accounts.
    check_new_password(password, email)
    with database.atomic():
        return User.create(
            email=_check_new_email(email),
            name=name.strip(),
            password_hash=hash_password(password),
            role=role,
            member_status=member_status,
            application_note=application_note,
            pseudonym=_new_pseudonym(),
        )


def register_client(email, name, password):
    return create_user(email, name, password, Role.CLIENT)


def apply_for_membership(email, name, password, note, sensitive_opt_in=False):
    """Open an applicant's account and tell the board, which admits or declines it."""
    with write_transaction():
        user = create_user(email, name, password, Role.MEMBER, application_note=note)
        if sensitive_opt_in:
            user.sensitive_opt_in = True
            user.save()
        notify(board_ids(), NotificationKind.APPLICATION_RECEIVED, f"user:{user.id}",
               name=user.name)
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user for these credentials, or None (same cost either way)."""
    user = User.get_or_none(User.email == (email or "").strip().lower())
    if user is None:
        check_password(_DUMMY_HASH, password or "")
        return None
    return user if check_password(user.password_hash, password or "") else None


def change_password(actor: User, current: str, new: str) -> User:
    """Change actor's password and end every other session (the caller signs this one in
    again with the new generation).

    :raises DomainError: the current password is wrong, or the new one breaks a rule.
    """
    if not check_password(actor.password_hash, current or ""):
        raise DomainError(_("The current password is wrong."), field="current")
    check_new_password(new, actor.email)
    with write_transaction():
        User.update(password_hash=hash_password(new)).where(User.id == actor.id).execute()
        end_sessions(actor)
    return actor


def log_out_everywhere(actor: User) -> None:
    """End every session of actor, on every browser."""
    with write_transaction():
        end_sessions(actor)


def disable_account(actor: User | None, user: User) -> User:
    """Disable user's account and end their sessions; actor None is the operator (CLI).

    A board member disables others, never themselves (the board would lose its last key).
    """
    if actor is not None:
        if not actor.is_board:
            raise Forbidden(_("Only the board can disable accounts."))
        if actor.id == user.id:
            raise DomainError(_("You cannot disable your own account."))
    with write_transaction():
        user = User.get_by_id(user.id)
        if user.disabled_at is not None:
            raise DomainError(_("This account is already disabled."))
        user.disabled_at = utcnow()
        user.save()
        end_sessions(user)
        record("account.disabled", f"user:{user.id}", pseudonym=user.pseudonym)
    return user


def enable_account(user: User) -> User:
    """Let a disabled account sign in again (CLI); its old sessions stay ended."""
    with write_transaction():
        user = User.get_by_id(user.id)
        if user.disabled_at is None:
            raise DomainError(_("This account is not disabled."))
        user.disabled_at = None
        user.save()
        record("account.enabled", f"user:{user.id}", pseudonym=user.pseudonym)
    return user


def _pending_applicant(applicant_id: int) -> User:
    applicant = User.get_or_none(User.id == applicant_id)
    if applicant is None or applicant.role not in (Role.MEMBER, Role.BOARD):
        raise NotFound(_("No such application."))
    if applicant.member_status != MemberStatus.APPLICANT:
        raise DomainError(_("This application has already been decided."))
    return applicant


def admit_member(actor: User, applicant_id: int) -> User:
    """Admit an applicant as a member of the coop."""
    if not actor.is_board:
        raise Forbidden(_("Only the board can admit members."))
    with write_transaction():
        applicant = _pending_applicant(applicant_id)
        applicant.member_status = MemberStatus.ACTIVE
        applicant.save()
        record("member.admitted", f"user:{applicant.id}", member=applicant.pseudonym)
    return applicant


def decline_member(actor: User, applicant_id: int, reason: str) -> User:
    """Decline an application; the reason is mandatory and shown to the applicant."""
    if not actor.is_board:
        raise Forbidden(_("Only the board can decline applications."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("A reason is required to decline an application."), field="reason")
    with write_transaction():
        applicant = _pending_applicant(applicant_id)
        applicant.member_status = MemberStatus.DECLINED
        applicant.decline_reason = reason
        applicant.declined_at = utcnow()
        applicant.save()
    return applicant


def reapply_from(user: User) -> datetime | None:
    """Return when a declined applicant may apply again, or None if they are not declined.

    The board's waiting period counts from the decline (from the account's creation for a
    decline older than its recorded date).
    """
    if user.role not in (Role.MEMBER, Role.BOARD) or user.member_status != MemberStatus.DECLINED:
        return None
    since = user.declined_at or user.created_at
    return since + timedelta(days=params.current().reapply_after_days)


def reapply(actor: User, note: str, now: datetime | None = None) -> User:
    """Make a declined applicant's application again, once the waiting period has passed.

    :raises DomainError: actor's application was not declined, the waiting period runs on, or
        the note is empty or too long.
    """
    now = now or utcnow()
    note = (note or "").strip()
    with write_transaction():
        user = User.get_by_id(actor.id)
        allowed_from = reapply_from(user)
        if allowed_from is None:
            raise DomainError(_("Only a declined application can be made again."))
        if now < allowed_from:
            raise DomainError(
                _("You may apply again from %(date)s.", date=format_date(allowed_from))
            )
        if not note or len(note) > 2000:
            raise DomainError(
                _("Say in 1 to 2000 characters why you want to join."), field="note"
            )
        user.member_status = MemberStatus.APPLICANT
        user.application_note = note
        user.save()
        notify(board_ids(), NotificationKind.APPLICATION_RECEIVED, f"user:{user.id}",
               name=user.name)
    return user


def set_role(user: User, role: str) -> User:
    """Change a user's role (CLI); a member made board stays an active member."""
    if role not in set(Role):
        raise DomainError(_("Unknown role: %(role)s", role=role))
    user.role = role
    if role in (Role.MEMBER, Role.BOARD):
        user.member_status = MemberStatus.ACTIVE
    else:
        user.member_status = None
    user.save()
    return user


def update_preferences(actor: User, sensitive_opt_in: bool, timezone: str) -> User:
    actor.sensitive_opt_in = bool(sensitive_opt_in) and actor.is_member
    actor.timezone = timezone
    actor.save()
    return actor
