"""Plain domain values for rule tests: a forum, an organisation, a registration request."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from schemas.commands import Register
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
from services.registration.domain.trace import Trace

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
CONTACT = Contact(name="Ana Silva", email="ana@example.org")


def trace(now: datetime = NOW) -> Trace:
    return Trace(correlation_id="command-1", causation_id="command-1", now=now)


def forum(**changes: Any) -> Forum:
    starts_at = NOW + timedelta(days=10)
    base = Forum(
        id=uuid4(),
        format=ForumFormat.FORUM,
        title="Forum Racial Profiling",
        topics=["racial profiling"],
        venue="Rathaus",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=6),
        registration_deadline=starts_at - timedelta(days=3),
        capacity=10,
        seats_per_organization=None,
        audience=Audience.OPEN,
        status=ForumStatus.SCHEDULED,
    )
    return replace(base, **changes)


def organization(status: OrganizationStatus = OrganizationStatus.PROSPECT) -> Organization:
    return Organization(
        id=uuid4(),
        name="Jugendtreff Nordstadt",
        kind=OrganizationKind.YOUTH_ORGANIZATION,
        district="Nordstadt",
        website=None,
        status=status,
        contact=CONTACT,
    )


def request(attendees: int = 1) -> Register:
    return Register(organization_id=uuid4(), contact=CONTACT, attendees=attendees, consent=True)


def waiting(attendees: int, arrival: int) -> Registration:
    return Registration(
        id=uuid4(),
        forum_id=uuid4(),
        organization_id=uuid4(),
        organization_name="Verein",
        status=RegistrationStatus.WAITLISTED,
        attendees=attendees,
        contact=CONTACT,
        wants_to_present=False,
        interested_in_partnership=False,
        accessibility_needs=None,
        interpreter_needs=None,
        created_at=NOW,
        arrival=arrival,
    )
