"""Organisation lifecycle: prospect → interested → partner → former, and erasure."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID, uuid4

from schemas.commands import OrganizationDraft
from schemas.organizations import (
    OrganizationErased,
    OrganizationErasedData,
    OrganizationInterested,
    OrganizationInterestedData,
    OrganizationRegistered,
    OrganizationRegisteredData,
    PartnerJoined,
    PartnerJoinedData,
    PartnerLeft,
    PartnerLeftData,
)
from schemas.vocabulary import Contact, OrganizationKind, OrganizationStatus
from services.registration.domain.errors import Conflict
from services.registration.domain.trace import Trace

Status = OrganizationStatus


@dataclass(frozen=True)
class Organization:
    id: UUID
    name: str
    kind: OrganizationKind
    district: str | None
    website: str | None
    status: OrganizationStatus
    contact: Contact | None
    interested_at: datetime | None = None
    interest_note: str | None = None
    agreement_signed_on: date | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    erased_at: datetime | None = None

    @property
    def erased(self) -> bool:
        """Its contacts' personal data has been erased."""
        return self.erased_at is not None


def create(draft: OrganizationDraft, trace: Trace) -> tuple[Organization, OrganizationRegistered]:
    organization = Organization(
        id=uuid4(),
        name=draft.name,
        kind=draft.kind,
        district=draft.district,
        website=str(draft.website) if draft.website else None,
        status=Status.PROSPECT,
        contact=draft.contact,
    )
    event = OrganizationRegistered(
        **trace.envelope_fields(organization.id),
        data=OrganizationRegisteredData(
            organization_id=organization.id,
            name=organization.name,
            kind=organization.kind,
            district=organization.district,
            website=organization.website,
            status=organization.status,
            contact=organization.contact,
        ),
    )
    return organization, event


def declare_interest(
    organization: Organization,
    trace: Trace,
    *,
    registration_id: UUID | None = None,
    note: str | None = None,
) -> tuple[Organization, OrganizationInterested]:
    if organization.status is not Status.PROSPECT:
        raise Conflict(
            f"only a prospect can declare interest; this organisation is {organization.status}",
            field="status",
        )
    changed = replace(
        organization, status=Status.INTERESTED, interested_at=trace.now, interest_note=note
    )
    event = OrganizationInterested(
        **trace.envelope_fields(organization.id),
        data=OrganizationInterestedData(
            organization_id=organization.id,
            name=organization.name,
            status=changed.status,
            interested_at=trace.now,
            contact=organization.contact,
            registration_id=registration_id,
            note=note,
        ),
    )
    return changed, event


def join(
    organization: Organization, agreement_signed_on: date, trace: Trace
) -> tuple[Organization, PartnerJoined]:
    if organization.status is Status.PARTNER:
        raise Conflict("the organisation is already a partner", field="status")
    changed = replace(
        organization,
        status=Status.PARTNER,
        agreement_signed_on=agreement_signed_on,
        joined_at=trace.now,
        left_at=None,
    )
    event = PartnerJoined(
        **trace.envelope_fields(organization.id),
        data=PartnerJoinedData(
            organization_id=organization.id,
            name=organization.name,
            status=changed.status,
            agreement_signed_on=agreement_signed_on,
            joined_at=trace.now,
            contact=organization.contact,
        ),
    )
    return changed, event


def leave(
    organization: Organization, reason: str | None, trace: Trace
) -> tuple[Organization, PartnerLeft]:
    if organization.status is not Status.PARTNER:
        raise Conflict(
            f"only a partner can leave; this organisation is {organization.status}", field="status"
        )
    changed = replace(organization, status=Status.FORMER, left_at=trace.now)
    event = PartnerLeft(
        **trace.envelope_fields(organization.id),
        data=PartnerLeftData(
            organization_id=organization.id,
            name=organization.name,
            status=changed.status,
            left_at=trace.now,
            reason=reason,
        ),
    )
    return changed, event


def erase(
    organization: Organization, registration_ids: list[UUID], trace: Trace
) -> OrganizationErased:
    """The fact that tells every service to delete what it holds on this organisation's contacts."""
    if organization.erased_at is not None:
        raise Conflict("the organisation's personal data is already erased")
    return OrganizationErased(
        **trace.envelope_fields(organization.id),
        data=OrganizationErasedData(
            organization_id=organization.id, erased_at=trace.now, registration_ids=registration_ids
        ),
    )
