"""Why a command is refused; each maps to one HTTP status, an `intake.rejected` status and one
reason label of `dialognet_registration_rejections_total`, the same for HTTP and intake."""


class DomainError(Exception):
    status = 422
    reason = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404
    reason = "not_found"


class AuthenticationRequired(DomainError):
    """Only callers with a token may do this (register for a partners-only forum)."""

    status = 401
    reason = "unauthenticated"


class Forbidden(DomainError):
    """The rule refuses this party (partners-only forum, wrong cancel token)."""

    status = 403
    reason = "forbidden"


class Conflict(DomainError):
    """The aggregate's state does not allow it now (closed, duplicate, wrong lifecycle step)."""

    status = 409
    reason = "conflict"


class RuleViolation(DomainError):
    """The request itself breaks a rule about one of its fields."""

    status = 422
    reason = "invalid"


def reason_of_status(status: int) -> str:
    """The reason label of a refusal known only by its status (invalid commands on intake)."""
    refusals: tuple[type[DomainError], ...] = (
        NotFound,
        AuthenticationRequired,
        Forbidden,
        Conflict,
    )
    return next((kind.reason for kind in refusals if kind.status == status), DomainError.reason)
