"""Domain errors: each carries a message a person understands; one handler renders them."""


class DomainError(Exception):
    """A rule refused the operation; the message says which and why."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist, or it is not the actor's to see."""

    status = 404


class Forbidden(DomainError):
    """The actor's role may not do this."""

    status = 403


class Conflict(DomainError):
    """Somebody else changed the object first (a claim or an award was lost)."""

    status = 409


class Unavailable(DomainError):
    """What was asked for does not exist yet; asking again shortly should work."""

    status = 503


class UnsupportedMediaType(DomainError):
    """The body is sent in a format this address does not read."""

    status = 415
