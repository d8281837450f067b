"""Facts on the `organizations` topic, keyed by organisation id."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.envelope import Envelope, Payload
from schemas.vocabulary import Contact, OrganizationKind, OrganizationStatus


class OrganizationRegisteredData(Payload):
    organization_id: UUID
    name: str
    kind: OrganizationKind
    district: str | None = None
    website: str | None = None
    status: OrganizationStatus
    contact: Contact | None = None


class OrganizationInterestedData(Payload):
    organization_id: UUID
    name: str
    status: OrganizationStatus
    interested_at: datetime
    contact: Contact | None = None
    registration_id: UUID | None = Field(
        default=None, description="Set when declared while registering"
    )
    note: str | None = Field(
        default=None, description="What the organisation wrote with it; None once erased"
    )


class PartnerJoinedData(Payload):
    organization_id: UUID
    name: str
    status: OrganizationStatus
    agreement_signed_on: date
    joined_at: datetime
    contact: Contact | None = None


class PartnerLeftData(Payload):
    organization_id: UUID
    name: str
    status: OrganizationStatus
    left_at: datetime
    reason: str | None = None


class OrganizationErasedData(Payload):
    organization_id: UUID
    erased_at: datetime
    registration_ids: list[UUID] = []


class OrganizationRegistered(Envelope):
    type: Literal["organization.registered"] = "organization.registered"
    data: OrganizationRegisteredData


class OrganizationInterested(Envelope):
    type: Literal["organization.interested"] = "organization.interested"
    data: OrganizationInterestedData


class PartnerJoined(Envelope):
    type: Literal["partner.joined"] = "partner.joined"
    data: PartnerJoinedData


class PartnerLeft(Envelope):
    type: Literal["partner.left"] = "partner.left"
    data: PartnerLeftData


class OrganizationErased(Envelope):
    type: Literal["organization.erased"] = "organization.erased"
    data: OrganizationErasedData
