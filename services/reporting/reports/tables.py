"""Which CSV tables each report offers (`?table=`), the first being its default."""

from services.reporting.reports.csv_export import Table
from services.reporting.reports.models import (
    EmailReport,
    ForumReport,
    ForumsReport,
    FunnelReport,
    NetworkReport,
)

FORUM_COLUMNS = (
    "forum_id", "title", "format", "status", "starts_at", "ends_at", "venue", "capacity",
    "seats_confirmed", "seats_waitlisted", "seats_cancelled", "seats_remaining", "fill_rate",
    "registrations_confirmed", "waitlist_length", "registrations_cancelled",
    "organizations_registered", "organizations_presenting", "accessibility_needs",
    "interpreter_needs", "attendance", "registrations_attended", "attendance_rate", "topics",
)  # fmt: skip
ORGANIZATION_COLUMNS = (
    "organization_name", "status", "attendees", "wants_to_present", "interested_in_partnership",
    "attended", "organization_id", "registration_id",
)  # fmt: skip
KIND_COLUMNS = ("kind", "organizations", "prospects", "interested", "partners", "former")
GROWTH_COLUMNS = (
    "month", "registered", "interested", "joined", "left", "partners_at_month_end",
    "organizations_at_month_end",
)  # fmt: skip


def network_tables(report: NetworkReport) -> dict[str, Table]:
    return _by_name(
        Table("kinds", KIND_COLUMNS, [kind.model_dump() for kind in report.by_kind]),
        Table("status", ("status", "organizations"), [s.model_dump() for s in report.by_status]),
        Table(
            "districts",
            ("district", "organizations", "partners"),
            [district.model_dump() for district in report.by_district],
        ),
        Table("growth", GROWTH_COLUMNS, [month.model_dump() for month in report.growth]),
        Table(
            "left",
            ("organization_id", "name", "left_at"),
            [left.model_dump() for left in report.partners_left],
        ),
    )


def forums_tables(report: ForumsReport) -> dict[str, Table]:
    return _by_name(Table("forums", FORUM_COLUMNS, [f.model_dump() for f in report.forums]))


def forum_tables(report: ForumReport) -> dict[str, Table]:
    figures = report.model_dump()
    summary = [{"figure": column, "value": figures[column]} for column in FORUM_COLUMNS]
    return _by_name(
        Table("summary", ("figure", "value"), summary),
        Table(
            "organizations",
            ORGANIZATION_COLUMNS,
            [organization.model_dump() for organization in report.organizations],
        ),
    )


def funnel_tables(report: FunnelReport) -> dict[str, Table]:
    return _by_name(
        Table(
            "steps",
            ("step", "organizations", "share_of_registered", "median_days_from_previous_step"),
            [step.model_dump() for step in report.steps],
        )
    )


def email_tables(report: EmailReport) -> dict[str, Table]:
    return _by_name(
        Table("kinds", ("kind", "sent", "failed"), [k.model_dump() for k in report.by_kind]),
        Table("failures", ("day", "failed"), [d.model_dump() for d in report.failures_by_day]),
    )


def _by_name(*tables: Table) -> dict[str, Table]:
    return {table.name: table for table in tables}
