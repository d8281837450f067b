"""Enumerations and value objects shared by commands and events."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from schemas.text import PhoneNumber, SingleLine

Item = TypeVar("Item")

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


# Forum times and the agreement date: far enough either way for any real one, near enough that
# converting them never leaves the range `datetime` can hold (a year-1 time overflowed there).
EARLIEST_FORUM_DAY = date(2000, 1, 1)
LATEST_FORUM_DAY = date(2100, 12, 31)
EARLIEST_AGREEMENT_DAY = date(1990, 1, 1)
LATEST_AGREEMENT_DAY = date(2100, 12, 31)


def _as_utc(moment: datetime) -> datetime:
    """A time without offset is meant in Europe/Berlin; everything is kept in UTC."""
    # The date as written is checked before converting: near year 1 or 9999 the conversion
    # raises OverflowError, which pydantic does not turn into a validation error.
    if not EARLIEST_FORUM_DAY <= moment.date() <= LATEST_FORUM_DAY:
        raise PydanticCustomError(
            "datetime_range",
            "must lie between {earliest} and {latest}",
            {"earliest": str(EARLIEST_FORUM_DAY), "latest": str(LATEST_FORUM_DAY)},
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.astimezone(ZoneInfo("UTC"))


# Accepts ISO 8601 with or without offset (then Europe/Berlin); always yields UTC.
UtcDatetime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    Field(
        description=f"ISO 8601, without offset meant in Europe/Berlin;"
        f" {EARLIEST_FORUM_DAY} to {LATEST_FORUM_DAY}"
    ),
]
AgreementDate = Annotated[
    date,
    Field(
        ge=EARLIEST_AGREEMENT_DAY,
        le=LATEST_AGREEMENT_DAY,
        description=f"{EARLIEST_AGREEMENT_DAY} to {LATEST_AGREEMENT_DAY}",
    ),
]


class Distinct:
    """Annotated metadata of a list whose items must not repeat (JSON Schema `uniqueItems`).

    A list, not a set: the items keep the order they were given in (topics are shown in it)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_without_repeats, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["uniqueItems"] = True
        return json_schema


def _without_repeats(items: list[Item]) -> list[Item]:
    seen: set[Item] = set()
    for item in items:
        if item in seen:
            raise PydanticCustomError(
                "repeated_item", "'{item}' is given more than once", {"item": str(item)}
            )
        seen.add(item)
    return items


LanguageCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2}$", description="ISO 639-1 code of the preferred language, e.g. de, en"
    ),
]
# RFC 5321 caps a forward path at 256 octets, 254 of them the address.
EmailAddress = Annotated[EmailStr, Field(max_length=254)]


class Contact(BaseModel):
    """A contact person: the personal data dialognet holds, kept minimal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: SingleLine
    email: EmailAddress
    phone: PhoneNumber | None = None
    language: LanguageCode = "de"


class ForumSummary(BaseModel):
    """What a message about a registration needs to say about its forum."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str
    format: ForumFormat
    venue: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, forum: object) -> "ForumSummary":
        """The summary of anything that has a forum's title, format, venue and times."""
        return cls.model_validate(forum, from_attributes=True)
