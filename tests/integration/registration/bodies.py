"""Request bodies of the registration API, built in one place so tests state only what differs."""

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

JsonBody = dict[str, Any]

_serial = itertools.count(1)


def unique_email(local: str = "kontakt") -> str:
    """An address no other test or registration uses (one live registration per e-mail)."""
    return f"{local}.{next(_serial)}.{secrets.token_hex(3)}@example.org"


def contact(
    *,
    name: str = "Ana Beispiel",
    email: str | None = None,
    phone: str | None = None,
    language: str = "de",
) -> JsonBody:
    return {"name": name, "email": email or unique_email(), "phone": phone, "language": language}


def organization(
    *,
    name: str = "Jugendtreff Nordstadt",
    kind: str = "youth_organization",
    district: str | None = "Nordstadt",
    website: str | None = None,
    with_contact: JsonBody | None = None,
) -> JsonBody:
    """`POST /v1/organizations` body (its contact is required there)."""
    return {
        "name": name,
        "kind": kind,
        "district": district,
        "website": website,
        "contact": with_contact or contact(),
    }


def inline_organization(
    *, name: str = "Kulturverein Süd", kind: str = "culture", district: str | None = "Südstadt"
) -> JsonBody:
    """The `organization` of a registration body: no contact, the registration's is used."""
    return {"name": name, "kind": kind, "district": district}


def forum(
    *,
    starts_in: timedelta = timedelta(days=60),
    duration: timedelta = timedelta(hours=6),
    deadline_before_start: timedelta = timedelta(days=3),
    capacity: int = 10,
    seats_per_organization: int | None = None,
    audience: str = "open",
    forum_format: str = "forum",
    title: str = "Forum Racial Profiling",
    **overrides: Any,
) -> JsonBody:
    """`POST /v1/forums` body with times relative to now (negative `starts_in` = started)."""
    starts_at = datetime.now(UTC).replace(microsecond=0) + starts_in
    body: JsonBody = {
        "format": forum_format,
        "title": title,
        "topics": ["racial profiling", "equal treatment"],
        "venue": "Rathaus, Saal 2",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + duration).isoformat(),
        "registration_deadline": (starts_at - deadline_before_start).isoformat(),
        "capacity": capacity,
        "seats_per_organization": seats_per_organization,
        "audience": audience,
    }
    body.update(overrides)
    return body


def started_forum(**overrides: Any) -> JsonBody:
    """A forum that began an hour ago and still takes registrations (it can be marked held)."""
    return forum(
        starts_in=-timedelta(hours=1),
        duration=timedelta(hours=4),
        deadline_before_start=-timedelta(hours=2),
        **overrides,
    )


def registration(
    *,
    organization_id: str | UUID | None = None,
    new_organization: JsonBody | None = None,
    attendees: int = 1,
    email: str | None = None,
    name: str = "Ana Beispiel",
    phone: str | None = None,
    language: str = "de",
    interested_in_partnership: bool = False,
    consent: bool = True,
    **overrides: Any,
) -> JsonBody:
    """`POST /v1/forums/{id}/registrations` body: an existing organisation, else a new one."""
    body: JsonBody = {
        "contact": contact(name=name, email=email, phone=phone, language=language),
        "attendees": attendees,
        "wants_to_present": False,
        "interested_in_partnership": interested_in_partnership,
        "accessibility_needs": None,
        "consent": consent,
    }
    if organization_id is not None:
        body["organization_id"] = str(organization_id)
    else:
        body["organization"] = new_organization or inline_organization()
    body.update(overrides)
    return body
