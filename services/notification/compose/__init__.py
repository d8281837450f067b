"""Writing the notification e-mails: one `Mail` becomes one `EmailMessage`, ready to send."""

from services.notification.compose.errors import MailNotComposable
from services.notification.compose.message import DEFAULT_TEMPLATES, compose
from services.notification.compose.templates import MailTemplates
from services.notification.domain.mails import Kind


def available_kinds() -> dict[str, frozenset[Kind]]:
    """Each installed language with the kinds it offers in full (check de and en at start-up)."""
    return DEFAULT_TEMPLATES.kinds_by_language()


__all__ = ["MailNotComposable", "MailTemplates", "available_kinds", "compose"]
