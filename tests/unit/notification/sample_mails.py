"""Realistic mails of every kind, for the composer's tests (and nothing else)."""

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from uuid import UUID

from services.notification.domain.mails import (
    Calendar,
    ForumFacts,
    Kind,
    Mail,
    Recipient,
    RegistrationFacts,
)

FORUM_ID = UUID("5b0e8f8a-2c1d-4f53-9a57-0d6f1c2b3a41")
REGISTRATION_ID = UUID("9c7d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f")
SENDER = "Dialognetzwerk <dialog@polizei.example>"
MESSAGE_ID = "<3f2a9c@notification.dialognet.example>"
SENT_AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)

# Thursday 27 March 2025 is still winter time in Berlin (UTC+1): 16:00 UTC is 17:00 there.
WINTER_START = datetime(2025, 3, 27, 16, 0, tzinfo=UTC)
WINTER_END = datetime(2025, 3, 27, 18, 30, tzinfo=UTC)
# Thursday 26 June 2025 is summer time (UTC+2): 15:00 UTC is 17:00 there.
SUMMER_START = datetime(2025, 6, 26, 15, 0, tzinfo=UTC)
SUMMER_END = datetime(2025, 6, 26, 17, 30, tzinfo=UTC)

CANCEL_URL = "https://dialog.example/registrations/9c7d1e2f/cancel?token=Zm9v"
REGISTRATION_URL = "https://dialog.example/forums/5b0e8f8a"
UNSUBSCRIBE_URL = "https://notify.dialog.example/unsubscribe?token=YmFy"

CALENDAR_KINDS = {
    Kind.REGISTRATION_CONFIRMED: "REQUEST",
    Kind.REGISTRATION_PROMOTED: "REQUEST",
    Kind.REGISTRATION_CANCELLED: "CANCEL",
    Kind.FORUM_UPDATED: "REQUEST",
    Kind.FORUM_REMINDER: "REQUEST",
    Kind.FORUM_CANCELLED: "CANCEL",
}
FORUM_KINDS = {kind for kind in Kind if kind.value.startswith(("registration_", "forum_"))}


def forum(
    *,
    title: str = "Racial Profiling: Erfahrungen und Wege",
    venue: str = "Rathaus, Saal 2; Marktplatz 1",
    starts_at: datetime = WINTER_START,
    ends_at: datetime = WINTER_END,
) -> ForumFacts:
    return ForumFacts(
        id=FORUM_ID,
        title=title,
        format="forum",
        venue=venue,
        starts_at=starts_at,
        ends_at=ends_at,
        registration_deadline=datetime(2025, 3, 20, 22, 59, tzinfo=UTC),
        registration_url=REGISTRATION_URL,
    )


def registration(kind: Kind, *, cancel_url: str | None = CANCEL_URL) -> RegistrationFacts:
    status = {
        Kind.REGISTRATION_WAITLISTED: "waitlisted",
        Kind.REGISTRATION_CANCELLED: "cancelled",
    }.get(kind, "confirmed")
    return RegistrationFacts(
        id=REGISTRATION_ID,
        attendees=2,
        status=status,
        waitlist_position=3 if status == "waitlisted" else None,
        organization_name="Brücke e.V.",
        cancel_url=cancel_url,
    )


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
    """A mail of the kind with every fact it would carry in production."""
    about_forum = kind in FORUM_KINDS
    method = CALENDAR_KINDS.get(kind)
    return Mail(
        kind=kind,
        recipient=Recipient(address=address, name=name, language=language),
        forum=(forum_facts or forum()) if about_forum else None,
        registration=registration(kind, cancel_url=cancel_url)
        if about_forum and kind is not Kind.FORUM_INVITATION
        else None,
        calendar=Calendar(
            uid=f"{FORUM_ID}.{REGISTRATION_ID}@dialognet", sequence=sequence, method=method
        )
        if method
        else None,
        organization_name="Brücke e.V."
        if not about_forum or kind is Kind.FORUM_INVITATION
        else None,
        outcomes="Drei Vorschläge für Beschwerdewege.\nEin Folgetreffen im Herbst.\n\nDanke!"
        if kind is Kind.FORUM_THANKS
        else None,
        note="Wir arbeiten mit Jugendlichen in Neukölln."
        if kind is Kind.INTEREST_STAFF_NOTE
        else None,
        contact=Recipient(address="kontakt@bruecke.example", name="Ayşe Müller")
        if kind is Kind.INTEREST_STAFF_NOTE
        else None,
        changed=["starts_at", "venue"] if kind is Kind.FORUM_UPDATED else [],
        reason="Der Saal steht nicht zur Verfügung." if kind is Kind.FORUM_CANCELLED else None,
        unsubscribe_url=UNSUBSCRIBE_URL if kind is Kind.FORUM_INVITATION else None,
    )


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
