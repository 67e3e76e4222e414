"""Who is asking: the bearer token's user on API calls, else the signed-in user."""

from flask import g, request
from flask_login import current_user

from coop.auth.tokens import user_for_token


def bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer …` header, if one was sent."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_actor():
    """Return the user a valid bearer token names, else the session's user, else None.

    A request that sends a token is judged on the token alone: a bad token is not rescued
    by a session cookie.
    """
    if "api_actor" not in g:
        token = bearer_token()
        if token is not None or "Authorization" in request.headers:
            g.api_actor = user_for_token(token) if token else None
        else:
            g.api_actor = current_user if current_user.is_authenticated else None
    return g.api_actor
