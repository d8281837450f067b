"""Response bodies of the HTTP API (also its OpenAPI schema)."""

import base64
import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

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
        return cls(
            id=organization.id,
            name=organization.name,
            kind=organization.kind,
            district=organization.district,
            website=organization.website,
            status=organization.status,
            contact=organization.contact,
            interested_at=organization.interested_at,
            agreement_signed_on=organization.agreement_signed_on,
            joined_at=organization.joined_at,
            left_at=organization.left_at,
            erased=organization.erased_at is not None,
        )


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
        return cls(
            id=forum.id,
            format=forum.format,
            title=forum.title,
            topics=forum.topics,
            venue=forum.venue,
            starts_at=forum.starts_at,
            ends_at=forum.ends_at,
            registration_deadline=forum.registration_deadline,
            capacity=forum.capacity,
            seats_per_organization=forum.seats_per_organization,
            audience=forum.audience,
            status=forum.status,
            seats_taken=forum.seats_taken,
            seats_remaining=forum.seats_remaining,
            waitlist_length=forum.waitlist_length,
            registration_open=forum.status is ForumStatus.SCHEDULED
            and now <= forum.registration_deadline,
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
        return cls(
            id=registration.id,
            forum_id=registration.forum_id,
            organization_id=registration.organization_id,
            organization_name=registration.organization_name,
            status=registration.status,
            waitlist_position=registration.waitlist_position,
            attendees=registration.attendees,
            contact=registration.contact,
            wants_to_present=registration.wants_to_present,
            interested_in_partnership=registration.interested_in_partnership,
            accessibility_needs=registration.accessibility_needs,
            interpreter_needs=registration.interpreter_needs,
            created_at=registration.created_at,
        )


class AdmittedView(RegistrationView):
    """The registrant's own copy: the only response that carries the cancel token."""

    cancel_token: str
    cancel_url: str

    @classmethod
    def admitted(
        cls, registration: Registration, cancel_token: str, cancel_url: str
    ) -> "AdmittedView":
        # Built from the view's own fields, not a model_dump(): the dump would turn the
        # contact back into a dict and validate its e-mail address a second time.
        return cls(
            **dict(RegistrationView.of(registration)),
            cancel_token=cancel_token,
            cancel_url=cancel_url,
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


def encode_cursor(*position: Any) -> str:
    raw = json.dumps([str(part) for part in position]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str]:
    """The position a `next` cursor points after; ValueError when it is not one of ours."""
    padded = cursor + "=" * (-len(cursor) % 4)
    position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if not isinstance(position, list) or not all(isinstance(part, str) for part in position):
        raise ValueError("not a cursor")
    return position
