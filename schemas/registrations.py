"""Facts on the `registrations` topic, keyed by forum id (seat counting stays in order)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.envelope import Envelope, Payload
from schemas.vocabulary import Contact, ForumSummary, RegistrationStatus


class RegistrationFacts(Payload):
    """What every registration event says: enough for notification to write the e-mail."""

    registration_id: UUID
    forum_id: UUID
    organization_id: UUID
    organization_name: str | None = None
    status: RegistrationStatus
    waitlist_position: int | None = Field(default=None, description="1-based, as of the event")
    attendees: int
    contact: Contact | None = Field(default=None, description="None once erased")
    forum: ForumSummary
    wants_to_present: bool = False
    interested_in_partnership: bool = False
    accessibility_needs: str | None = None
    interpreter_needs: str | None = None


class RegistrationMadeData(RegistrationFacts):
    cancel_token: str | None = Field(
        default=None, description="Only for the registrant's cancel link; never shown to staff"
    )
    registered_at: datetime


class RegistrationPromotedData(RegistrationFacts):
    promoted_at: datetime


class RegistrationCancelledData(RegistrationFacts):
    cancelled_at: datetime
    cancelled_by: Literal["registrant", "staff", "intake", "forum"] = Field(
        description="`forum`: the forum was cancelled, which ends its waitlist"
    )
    previous_status: RegistrationStatus
    reason: str | None = None


class RegistrationMade(Envelope):
    type: Literal["registration.made"] = "registration.made"
    data: RegistrationMadeData


class RegistrationPromoted(Envelope):
    type: Literal["registration.promoted"] = "registration.promoted"
    data: RegistrationPromotedData


class RegistrationCancelled(Envelope):
    type: Literal["registration.cancelled"] = "registration.cancelled"
    data: RegistrationCancelledData
