"""What an e-mail says, before it is written: its kind, its recipient and the facts it tells.

The planner (which mail for which fact) produces these; the composer (templates, .ics, headers)
turns one into a message. Everything here is JSON-able, because a delivery keeps its mail in the
database from the moment the fact is processed until it is sent (or retried, days later).
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Kind(StrEnum):
    """Template kinds: one folder entry each under templates/<lang>/ (a public contract)."""

    REGISTRATION_CONFIRMED = "registration_confirmed"
    REGISTRATION_WAITLISTED = "registration_waitlisted"
    REGISTRATION_PROMOTED = "registration_promoted"
    REGISTRATION_CANCELLED = "registration_cancelled"
    FORUM_INVITATION = "forum_invitation"
    FORUM_UPDATED = "forum_updated"
    FORUM_REMINDER = "forum_reminder"
    FORUM_CANCELLED = "forum_cancelled"
    FORUM_THANKS = "forum_thanks"
    PARTNER_WELCOME = "partner_welcome"
    INTEREST_ACKNOWLEDGED = "interest_acknowledged"
    INTEREST_STAFF_NOTE = "interest_staff_note"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipient(Frozen):
    address: str
    name: str | None = None
    language: str = "de"  # ISO 639-1; a language without templates falls back to German


class ForumFacts(Frozen):
    """The forum as the mail tells it (times in UTC; shown in Europe/Berlin)."""

    id: UUID
    title: str
    format: str  # forum, conference, workshop, dialogue
    venue: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime | None = None
    registration_url: str | None = None  # the public page to register (invitations)


class ForumTimes(Protocol):
    """What every fact and row about a forum tells of it (a snapshot, a summary, the read
    model's row)."""

    @property
    def title(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def venue(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


def forum_facts(
    forum_id: UUID, forum: ForumTimes, registration_deadline: datetime | None
) -> ForumFacts:
    return ForumFacts(
        id=forum_id,
        title=forum.title,
        format=forum.format,
        venue=forum.venue,
        starts_at=forum.starts_at,
        ends_at=forum.ends_at,
        registration_deadline=registration_deadline,
    )


class RegistrationFacts(Frozen):
    id: UUID
    attendees: int
    status: str  # confirmed, waitlisted, cancelled
    waitlist_position: int | None = None
    organization_name: str | None = None
    cancel_url: str | None = None  # absent when the cancel token is not known (a replay)


class Calendar(Frozen):
    """An .ics attachment: UID stable per forum and registration, SEQUENCE rising with each
    change of time or venue, REQUEST to add or update, CANCEL to remove."""

    uid: str
    sequence: int
    method: Literal["REQUEST", "CANCEL"]


class Mail(Frozen):
    """One e-mail to one recipient about one occasion."""

    kind: Kind
    recipient: Recipient
    forum: ForumFacts | None = None
    registration: RegistrationFacts | None = None
    calendar: Calendar | None = None
    organization_name: str | None = None  # welcome, interest (who joined or is interested)
    outcomes: str | None = None  # forum_thanks: what the forum achieved
    note: str | None = None  # interest_staff_note: what the organisation wrote
    contact: Recipient | None = None  # interest_staff_note: whom staff get back to
    changed: list[str] = []  # forum_updated: which of starts_at, ends_at, venue changed
    reason: str | None = None  # cancellations: the reason given, if any
    unsubscribe_url: str | None = None  # invitations only (List-Unsubscribe too)
