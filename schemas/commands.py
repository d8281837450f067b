"""Command payloads: the bodies of HTTP requests and of intake commands alike."""

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    UrlConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.text import LongMultiLine, MultiLine, SingleLine
from schemas.vocabulary import (
    AgreementDate,
    Audience,
    Contact,
    Distinct,
    ForumFormat,
    OrganizationKind,
    UtcDatetime,
)

# Ranges that fit the integer columns and the largest real case with room to spare: the open
# conference is the largest event, a few hundred people.
Capacity = Annotated[int, Field(ge=1, le=100_000)]
SeatsPerOrganization = Annotated[int, Field(ge=1, le=100_000)]
Attendance = Annotated[int, Field(ge=0, le=1_000_000)]
Attendees = Annotated[int, Field(ge=1, le=1000)]
Topics = Annotated[list[SingleLine], Field(max_length=30), Distinct()]
# Far more registrations than a real forum has; a 64 KiB HTTP body holds ~1,700 ids anyway,
# an intake message more.
AttendedRegistrationIds = Annotated[list[UUID], Field(max_length=10_000), Distinct()]
WebsiteUrl = Annotated[HttpUrl, UrlConstraints(max_length=500)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrganizationDraft(Command):
    """A new organisation; the contact is optional when registering inline."""

    name: SingleLine
    kind: OrganizationKind
    district: SingleLine | None = None
    website: WebsiteUrl | None = None
    contact: Contact | None = None


class CreateOrganization(OrganizationDraft):
    contact: Contact


class DeclareInterest(Command):
    note: MultiLine | None = None


class JoinPartnership(Command):
    agreement_signed_on: AgreementDate


class LeavePartnership(Command):
    reason: MultiLine | None = None


class ForumFields(Command):
    format: ForumFormat
    title: SingleLine
    topics: Topics = []
    venue: SingleLine
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    registration_deadline: UtcDatetime
    capacity: Capacity
    seats_per_organization: SeatsPerOrganization | None = None
    audience: Audience = Audience.OPEN


class ScheduleForum(ForumFields):
    @model_validator(mode="after")
    def _times_in_order(self) -> Self:
        problem = forum_times_problem(self.starts_at, self.ends_at, self.registration_deadline)
        if problem:
            raise field_error(*problem)
        return self


def field_error(field: str, message: str) -> PydanticCustomError:
    """A whole-model check's error that still names the field it is about (in ctx)."""
    return PydanticCustomError("field_rule", "{message}", {"field": field, "message": message})


def forum_times_problem(
    starts_at: datetime, ends_at: datetime, deadline: datetime
) -> tuple[str, str] | None:
    """(field, message) when the times are out of order, else None."""
    if ends_at <= starts_at:
        return "ends_at", "ends_at must be after starts_at"
    if deadline > ends_at:
        return "registration_deadline", "registration_deadline must not be after ends_at"
    return None


class UpdateForum(Command):
    """PATCH body: only the fields given change."""

    format: ForumFormat | None = None
    title: SingleLine | None = None
    topics: Topics | None = None
    venue: SingleLine | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    registration_deadline: UtcDatetime | None = None
    capacity: Capacity | None = None
    seats_per_organization: SeatsPerOrganization | None = None
    audience: Audience | None = None


class CancelForum(Command):
    reason: MultiLine | None = None


class MarkForumHeld(Command):
    attendance: Attendance
    attended_registration_ids: AttendedRegistrationIds = []
    outcomes: LongMultiLine | None = None


class Register(Command):
    """A registration for a forum: an existing organisation by id, or a new one inline."""

    organization_id: UUID | None = None
    organization: OrganizationDraft | None = None
    contact: Contact
    attendees: Attendees = 1
    wants_to_present: bool = False
    interested_in_partnership: bool = False
    accessibility_needs: MultiLine | None = None
    interpreter_needs: MultiLine | None = None
    consent: bool

    @model_validator(mode="after")
    def _one_organization(self) -> Self:
        if (self.organization_id is None) == (self.organization is None):
            raise field_error(
                "organization_id",
                "give either organization_id or organization, not both or neither",
            )
        return self

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, consent: bool) -> bool:
        if not consent:
            raise ValueError("consent to data processing is required")
        return consent


class CancelRegistration(Command):
    # Any text up to the length: a token that is not ours is refused as not matching (403).
    cancel_token: Annotated[str, Field(max_length=200)] | None = None
    reason: MultiLine | None = None
