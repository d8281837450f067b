"""Enumerations and value objects shared by commands and events."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

BERLIN = ZoneInfo("Europe/Berlin")


class OrganizationKind(StrEnum):
    MIGRANT_ORGANIZATION = "migrant_organization"
    YOUTH_ORGANIZATION = "youth_organization"
    RELIGIOUS_COMMUNITY = "religious_community"
    SOCIAL_SERVICES = "social_services"
    EDUCATION = "education"
    SPORTS = "sports"
    CULTURE = "culture"
    LGBTIQ = "lgbtiq"
    WOMENS_ORGANIZATION = "womens_organization"
    OTHER = "other"


class OrganizationStatus(StrEnum):
    PROSPECT = "prospect"
    INTERESTED = "interested"
    PARTNER = "partner"
    FORMER = "former"


class ForumFormat(StrEnum):
    FORUM = "forum"
    CONFERENCE = "conference"
    WORKSHOP = "workshop"
    DIALOGUE = "dialogue"


class Audience(StrEnum):
    OPEN = "open"
    PARTNERS = "partners"


class ForumStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


def _as_utc(moment: datetime) -> datetime:
    """A time without offset is meant in Europe/Berlin; everything is kept in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.astimezone(ZoneInfo("UTC"))


# Accepts ISO 8601 with or without offset (then Europe/Berlin); always yields UTC.
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]

LanguageCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2}$", description="ISO 639-1 code of the preferred language, e.g. de, en"
    ),
]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
# No CR/LF in anything that may reach a mail header.
SingleLine = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\r\n]*$")]


class Contact(BaseModel):
    """A contact person: the personal data dialognet holds, kept minimal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: SingleLine
    email: EmailStr
    phone: Annotated[str, Field(max_length=40, pattern=r"^[0-9+()/ .-]*$")] | None = None
    language: LanguageCode = "de"


class ForumSummary(BaseModel):
    """What a message about a registration needs to say about its forum."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str
    format: ForumFormat
    venue: str
    starts_at: datetime
    ends_at: datetime
