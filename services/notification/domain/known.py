"""What notification knows of organisations, forums and registrations: its read model's rows,
kept from the facts, with what an e-mail needs and nothing more."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.notification.domain.mails import ForumFacts, Recipient, forum_facts


@dataclass(frozen=True)
class KnownOrganization:
    id: UUID
    name: str | None
    status: str  # prospect, interested, partner, former
    contact: Recipient | None  # None without a contact, and once erased


@dataclass(frozen=True)
class KnownForum:
    id: UUID
    title: str
    format: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime | None
    audience: str | None
    status: str  # scheduled, held, cancelled
    sequence: int  # how often its time or venue changed (.ics SEQUENCE)
    updated_at: datetime  # when the fact occurred that the row holds

    def facts(self) -> ForumFacts:
        return forum_facts(self.id, self, self.registration_deadline)


@dataclass(frozen=True)
class FactRef:
    """A fact whose mail may still be planned later (for an organisation or registration whose
    own fact is processed after it): its identity, type, time and chain."""

    event_id: UUID
    event_type: str
    occurred_at: datetime
    correlation_id: str | None


@dataclass(frozen=True)
class ForumEnding:
    """The fact that held or cancelled a forum, with what its last mails say."""

    fact: FactRef
    reason: str | None  # forum.cancelled: why
    outcomes: str | None  # forum.held: what it achieved
    attended_registration_ids: frozenset[UUID]  # forum.held; empty: every confirmed one

    @property
    def cancelled(self) -> bool:
        return self.fact.event_type == "forum.cancelled"


@dataclass(frozen=True)
class KnownRegistration:
    id: UUID
    forum_id: UUID
    organization_id: UUID
    organization_name: str | None
    status: str  # confirmed, waitlisted, cancelled
    attendees: int
    waitlist_position: int | None
    contact: Recipient | None  # None once erased
    cancel_token: str | None
    registered_at: datetime
    cancelled_by: str | None
