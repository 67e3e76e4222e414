"""Who may read the general assembly's records: every member (and the board), no client."""

from coop.models import User


def can_see_vote(user: User | None) -> bool:
    """Return whether user may read votes, their results and their ledger entries."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_member
