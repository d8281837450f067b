"""Response bodies of the HTTP API (also its OpenAPI schema)."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from schemas.vocabulary import (
    Audience,
    Contact,
    ForumFormat,
    ForumStatus,
    OrganizationKind,
    OrganizationStatus,
    RegistrationStatus,
)
from services.registration.domain.forums import Forum
from services.registration.domain.organizations import Organization
from services.registration.domain.registrations import Registration


class OrganizationView(BaseModel):
    id: UUID
    name: str
    kind: OrganizationKind
    district: str | None
    website: str | None
    status: OrganizationStatus
    contact: Contact | None
    interested_at: datetime | None
    agreement_signed_on: date | None
    joined_at: datetime | None
    left_at: datetime | None
    erased: bool

    @classmethod
    def of(cls, organization: Organization) -> "OrganizationView":
        return cls.model_validate(organization, from_attributes=True)


class ForumView(BaseModel):
    id: UUID
    format: ForumFormat
    title: str
    topics: list[str]
    venue: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    capacity: int
    seats_per_organization: int | None
    audience: Audience
    status: ForumStatus
    seats_taken: int
    seats_remaining: int
    waitlist_length: int
    registration_open: bool

    @classmethod
    def of(cls, forum: Forum, now: datetime) -> "ForumView":
        # The forum's own fields and properties, plus what depends on the time of asking.
        return cls.model_validate(
            {
                **{name: getattr(forum, name) for name in cls.model_fields if hasattr(forum, name)},
                "registration_open": forum.status is ForumStatus.SCHEDULED
                and now <= forum.registration_deadline,
            }
        )


class RegistrationView(BaseModel):
    id: UUID
    forum_id: UUID
    organization_id: UUID
    organization_name: str | None
    status: RegistrationStatus
    waitlist_position: int | None
    attendees: int
    contact: Contact | None
    wants_to_present: bool
    interested_in_partnership: bool
    accessibility_needs: str | None
    interpreter_needs: str | None
    created_at: datetime

    @classmethod
    def of(cls, registration: Registration) -> "RegistrationView":
        return cls.model_validate(registration, from_attributes=True)


class AdmittedView(RegistrationView):
    """The registrant's own copy: the only response that carries the cancel token."""

    cancel_token: str
    cancel_url: str = Field(
        description="The API's cancel operation with the token: POST it as given to cancel"
    )
    cancel_page_url: str = Field(
        description="The cancel page for a person (the link the registrant is e-mailed): "
        "it shows the registration and cancels it with a form"
    )

    @classmethod
    def admitted(
        cls,
        registration: Registration,
        cancel_token: str,
        *,
        cancel_url: str,
        cancel_page_url: str,
    ) -> "AdmittedView":
        # Built from the view's own fields, not a model_dump(): the dump would turn the
        # contact back into a dict and validate its e-mail address a second time.
        return cls(
            **dict(RegistrationView.of(registration)),
            cancel_token=cancel_token,
            cancel_url=cancel_url,
            cancel_page_url=cancel_page_url,
        )


class OrganizationPage(BaseModel):
    items: list[OrganizationView]
    next: str | None


class ForumPage(BaseModel):
    items: list[ForumView]
    next: str | None


class RegistrationPage(BaseModel):
    items: list[RegistrationView]
    next: str | None
