"""Role checks every operation makes first: one refusal message per role, said once."""

from flask_babel import gettext as _

from coop.errors import Forbidden
from coop.models import MemberStatus, Role, User


def require_client(user: User) -> None:
    if not user.is_client:
        raise Forbidden(_("Only clients can do this."))


def require_member(user: User) -> None:
    if not user.is_member:
        raise Forbidden(_("Only members can do this."))


def require_board(user: User) -> None:
    if not user.is_board:
        raise Forbidden(_("Only the board can do this."))


def require_board_or_operator(user: User | None) -> None:
    """Let the board, or the operator at the command line (None), go on."""
    if user is not None:
        require_board(user)


def role_label(user: User) -> str:
    """Name, translated, what user is in the coop: client, applicant, declined, member, board."""
    if user.role == Role.CLIENT:
        return _("client")
    if user.member_status == MemberStatus.APPLICANT:
        return _("applicant")
    if user.member_status == MemberStatus.DECLINED:
        return _("declined")
    return _("board") if user.role == Role.BOARD else _("member")
