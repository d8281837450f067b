"""Why a command is refused; each maps to one HTTP status and to an `intake.rejected` reason."""


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class AuthenticationRequired(DomainError):
    """Only callers with a token may do this (register for a partners-only forum)."""

    status = 401


class Forbidden(DomainError):
    """The rule refuses this party (partners-only forum, wrong cancel token)."""

    status = 403


class Conflict(DomainError):
    """The aggregate's state does not allow it now (closed, duplicate, wrong lifecycle step)."""

    status = 409


class RuleViolation(DomainError):
    """The request itself breaks a rule about one of its fields."""

    status = 422
