"""Sessions end everywhere at once: each carries the user's session generation.

Flask keeps the session in a signed cookie, so a copy of it stays valid on its own; what the
server can change is the generation stored with the user. Sessions and remember cookies hold
"id:generation" (User.get_id); the loader refuses any other generation, so bumping it ends
every session and every copied cookie of that user.
"""

from coop.models import User


def load_user(session_id: str) -> User | None:
    """Return the signed-in user for a session's "id:generation", or None when it ended."""
    user_id, _, generation = (session_id or "").partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None  # also sessions from before generations existed: they sign in again
    user = User.get_or_none(User.id == int(user_id))
    if user is None or user.session_generation != int(generation) or not user.is_active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Bump user's generation so every session opened before now is refused (call it inside
    the operation's transaction)."""
    User.update(session_generation=User.session_generation + 1).where(
        User.id == user.id
    ).execute()
    user.session_generation = User.get_by_id(user.id).session_generation
