"""The JSON of the reports: keys that say what they hold."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Report(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class PeriodShown(Report):
    from_: date | None = Field(alias="from", serialization_alias="from")
    to: date | None


class StatusCount(Report):
    status: str
    organizations: int


class KindCount(Report):
    kind: str
    organizations: int
    prospects: int
    interested: int
    partners: int
    former: int


class DistrictCount(Report):
    district: str | None
    organizations: int
    partners: int


class GrowthMonth(Report):
    month: str = Field(description="YYYY-MM, Europe/Berlin")
    registered: int = Field(description="Organisations that registered (prospects) that month")
    interested: int = Field(description="Declarations of interest that month")
    joined: int = Field(description="Partners who joined that month")
    left: int = Field(description="Partners who left that month")
    partners_at_month_end: int
    organizations_at_month_end: int


class PartnerLeft(Report):
    organization_id: UUID
    name: str | None = Field(description="None once the organisation's data was erased")
    left_at: datetime


class NetworkReport(Report):
    generated_at: datetime
    period: PeriodShown
    organizations_total: int
    partners: int
    by_status: list[StatusCount]
    by_kind: list[KindCount]
    by_district: list[DistrictCount]
    growth: list[GrowthMonth]
    partners_left: list[PartnerLeft]


class ForumFigures(Report):
    forum_id: UUID
    title: str | None
    format: str | None
    status: str | None
    topics: list[str]
    venue: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    registration_deadline: datetime | None
    capacity: int | None = Field(description="None until the forum's own facts have arrived")
    seats_confirmed: int
    seats_waitlisted: int
    seats_cancelled: int
    seats_remaining: int | None
    fill_rate: float | None = Field(description="seats_confirmed / capacity")
    registrations_confirmed: int
    waitlist_length: int
    registrations_cancelled: int
    organizations_registered: int
    organizations_presenting: int = Field(description="that want to present themselves")
    accessibility_needs: int = Field(description="Registrations naming accessibility needs")
    interpreter_needs: int = Field(description="Registrations naming interpreter needs")
    attendance: int | None = Field(description="People at the forum, as reported when held")
    registrations_attended: int
    attendance_rate: float | None = Field(
        description="registrations_attended / registrations_confirmed, once held"
    )
    held_at: datetime | None
    cancelled_at: datetime | None


class ForumsReport(Report):
    generated_at: datetime
    period: PeriodShown
    forums: list[ForumFigures]


class ForumOrganization(Report):
    registration_id: UUID
    organization_id: UUID
    organization_name: str | None
    status: str
    attendees: int
    wants_to_present: bool
    interested_in_partnership: bool
    attended: bool


class ForumReport(ForumFigures):
    generated_at: datetime
    organizations: list[ForumOrganization]


class FunnelStep(Report):
    step: str
    organizations: int
    share_of_registered: float | None
    median_days_from_previous_step: float | None


class FunnelReport(Report):
    generated_at: datetime
    period: PeriodShown
    registered_for_forum: int
    declared_interest: int
    joined_as_partner: int
    median_days_registration_to_interest: float | None
    median_days_interest_to_joining: float | None
    steps: list[FunnelStep]


class EmailKind(Report):
    kind: str
    sent: int
    failed: int


class EmailFailuresDay(Report):
    day: date
    failed: int


class EmailReport(Report):
    generated_at: datetime
    period: PeriodShown
    sent: int
    failed: int
    by_kind: list[EmailKind]
    failures_by_day: list[EmailFailuresDay]
