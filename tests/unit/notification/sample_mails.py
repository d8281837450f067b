"""The example mails varied for the composer's tests, and how a test reads a message back."""

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

from services.notification.compose.examples import (
    CALENDAR_METHODS,
    CANCEL_URL,
    ENDS_AT,
    EXAMPLE_SENDER,
    FORUM_ID,
    FORUM_KINDS,
    REGISTRATION_ID,
    REGISTRATION_URL,
    STARTS_AT,
    UNSUBSCRIBE_URL,
    example_forum,
    example_mail,
)
from services.notification.domain.mails import ForumFacts, Kind, Mail

__all__ = [
    "CALENDAR_METHODS",
    "CANCEL_URL",
    "FORUM_ID",
    "FORUM_KINDS",
    "REGISTRATION_ID",
    "REGISTRATION_URL",
    "UNSUBSCRIBE_URL",
]

SENDER = EXAMPLE_SENDER
MESSAGE_ID = "<3f2a9c@notification.dialognet.example>"
SENT_AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
WINTER_START, WINTER_END = STARTS_AT, ENDS_AT
# Thursday 26 June 2025 is summer time (UTC+2): 15:00 UTC is 17:00 there.
SUMMER_START = datetime(2025, 6, 26, 15, 0, tzinfo=UTC)
SUMMER_END = datetime(2025, 6, 26, 17, 30, tzinfo=UTC)


def forum(**changes: object) -> ForumFacts:
    """The example forum with other values (title, venue, starts_at, ends_at)."""
    return example_forum().model_copy(update=changes)


def mail(
    kind: Kind,
    *,
    language: str = "de",
    name: str | None = "Ayşe Müller",
    address: str = "ayse.mueller@bruecke.example",
    forum_facts: ForumFacts | None = None,
    sequence: int = 0,
    cancel_url: str | None = CANCEL_URL,
) -> Mail:
    """The example mail of the kind, with the recipient, forum, sequence or cancel link given."""
    sample = example_mail(kind, language)
    changes: dict[str, object] = {
        "recipient": sample.recipient.model_copy(update={"name": name, "address": address})
    }
    if sample.forum is not None and forum_facts is not None:
        changes["forum"] = forum_facts
    if sample.calendar is not None:
        changes["calendar"] = sample.calendar.model_copy(update={"sequence": sequence})
    if sample.registration is not None:
        changes["registration"] = sample.registration.model_copy(update={"cancel_url": cancel_url})
    return sample.model_copy(update=changes)


def as_received(message: EmailMessage) -> EmailMessage:
    """The message as a recipient's client reads it: serialised for SMTP and parsed back."""
    return read_back(message.as_bytes())


def read_back(raw: bytes) -> EmailMessage:
    received = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(received, EmailMessage)
    return received


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    # A part read back from the wire keeps its CRLF line ends; a client shows them as lines.
    return content.replace("\r\n", "\n")
