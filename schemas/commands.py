"""Command payloads: the bodies of HTTP requests and of intake commands alike."""

from datetime import date, datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.vocabulary import (
    Audience,
    Contact,
    ForumFormat,
    OrganizationKind,
    ShortText,
    SingleLine,
    UtcDatetime,
)


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrganizationDraft(Command):
    """A new organisation; the contact is optional when registering inline."""

    name: SingleLine
    kind: OrganizationKind
    district: ShortText | None = None
    website: HttpUrl | None = None
    contact: Contact | None = None


class CreateOrganization(OrganizationDraft):
    contact: Contact


class DeclareInterest(Command):
    note: Annotated[str, Field(max_length=2000)] | None = None


class JoinPartnership(Command):
    agreement_signed_on: date


class LeavePartnership(Command):
    reason: Annotated[str, Field(max_length=2000)] | None = None


class ForumFields(Command):
    format: ForumFormat
    title: SingleLine
    topics: Annotated[list[ShortText], Field(max_length=30)] = []
    venue: ShortText
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    registration_deadline: UtcDatetime
    capacity: Annotated[int, Field(ge=1, le=100_000)]
    seats_per_organization: Annotated[int, Field(ge=1)] | None = None
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
    topics: Annotated[list[ShortText], Field(max_length=30)] | None = None
    venue: ShortText | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    registration_deadline: UtcDatetime | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    seats_per_organization: Annotated[int, Field(ge=1)] | None = None
    audience: Audience | None = None


class CancelForum(Command):
    reason: Annotated[str, Field(max_length=2000)] | None = None


class MarkForumHeld(Command):
    attendance: Annotated[int, Field(ge=0)]
    attended_registration_ids: list[UUID] = []
    outcomes: Annotated[str, Field(max_length=20_000)] | None = None


class Register(Command):
    """A registration for a forum: an existing organisation by id, or a new one inline."""

    organization_id: UUID | None = None
    organization: OrganizationDraft | None = None
    contact: Contact
    attendees: Annotated[int, Field(ge=1, le=1000)] = 1
    wants_to_present: bool = False
    interested_in_partnership: bool = False
    accessibility_needs: Annotated[str, Field(max_length=2000)] | None = None
    interpreter_needs: Annotated[str, Field(max_length=2000)] | None = None
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
    cancel_token: Annotated[str, Field(max_length=200)] | None = None
    reason: Annotated[str, Field(max_length=2000)] | None = None
