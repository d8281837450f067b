"""The reports, computed from one generation of the read models."""

from collections import defaultdict
from datetime import date
from typing import Any
from uuid import UUID

from schemas.envelope import utc_now
from services.reporting.reports.models import (
    DistrictCount,
    EmailFailuresDay,
    EmailKind,
    EmailReport,
    ForumFigures,
    ForumOrganization,
    ForumReport,
    ForumsReport,
    FunnelReport,
    FunnelStep,
    GrowthMonth,
    KindCount,
    NetworkReport,
    PartnerLeft,
    PeriodShown,
    StatusCount,
)
from services.reporting.reports.periods import Period
from services.reporting.store import queries
from services.runtime.db import Connection

STATUSES = ("prospect", "interested", "partner", "former")
RATE_DIGITS = 4
DAYS_DIGITS = 1


def _shown(period: Period) -> PeriodShown:
    return PeriodShown(from_=period.first_day, to=period.last_day)


async def network(conn: Connection, generation: int, period: Period) -> NetworkReport:
    by_status_and_kind = await queries.organizations_by_status_and_kind(conn, generation)
    by_status: dict[str, int] = defaultdict(int)
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in by_status_and_kind:
        by_status[row["status"]] += row["organizations"]
        kinds[row["kind"]][row["status"]] += row["organizations"]
    left = await queries.partners_left(conn, generation, period.since, period.until)
    return NetworkReport(
        generated_at=utc_now(),
        period=_shown(period),
        organizations_total=sum(by_status.values()),
        partners=by_status.get("partner", 0),
        by_status=[StatusCount(status=s, organizations=n) for s, n in sorted(by_status.items())],
        by_kind=[
            KindCount(
                kind=kind,
                organizations=sum(counts.values()),
                prospects=counts["prospect"],
                interested=counts["interested"],
                partners=counts["partner"],
                former=counts["former"],
            )
            for kind, counts in sorted(kinds.items())
        ],
        by_district=[
            DistrictCount(**row)
            for row in await queries.organizations_by_district(conn, generation)
        ],
        growth=growth(await queries.steps_by_month(conn, generation), period),
        partners_left=[PartnerLeft(**row) for row in left],
    )


def growth(rows: list[dict[str, Any]], period: Period) -> list[GrowthMonth]:
    """Every month from the first step on (or the period's), with the running totals."""
    steps: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        steps[row["month"]][row["step"]] = row["events"]
    if not steps:
        return []
    months = _months(min(steps), max(steps))
    partners = organizations = 0
    shown = []
    first = period.first_day.strftime("%Y-%m") if period.first_day else None
    last = period.last_day.strftime("%Y-%m") if period.last_day else None
    for month in months:
        counts = steps[month]
        partners += counts["joined"] - counts["left"]
        organizations += counts["registered"]
        if (first is None or month >= first) and (last is None or month <= last):
            shown.append(
                GrowthMonth(
                    month=month,
                    registered=counts["registered"],
                    interested=counts["interested"],
                    joined=counts["joined"],
                    left=counts["left"],
                    partners_at_month_end=partners,
                    organizations_at_month_end=organizations,
                )
            )
    return shown


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def forum_figures(row: dict[str, Any]) -> ForumFigures:
    capacity = row["capacity"]
    confirmed = row["seats_confirmed"]
    held = row["status"] == "held"
    return ForumFigures(
        **{name: row[name] for name in _FIGURE_COLUMNS},
        topics=list(row["topics"] or []),
        seats_remaining=None if capacity is None else max(capacity - confirmed, 0),
        fill_rate=round(confirmed / capacity, RATE_DIGITS) if capacity else None,
        attendance_rate=(
            round(row["registrations_attended"] / row["registrations_confirmed"], RATE_DIGITS)
            if held and row["registrations_confirmed"]
            else None
        ),
    )


_FIGURE_COLUMNS = (
    "forum_id", "title", "format", "status", "venue", "starts_at", "ends_at",
    "registration_deadline", "capacity", "seats_confirmed", "seats_waitlisted", "seats_cancelled",
    "registrations_confirmed", "waitlist_length", "registrations_cancelled",
    "organizations_registered", "organizations_presenting", "accessibility_needs",
    "interpreter_needs", "attendance", "registrations_attended", "held_at", "cancelled_at",
)  # fmt: skip


async def forums(conn: Connection, generation: int, period: Period) -> ForumsReport:
    rows = await queries.forums(conn, generation, period.since, period.until)
    return ForumsReport(
        generated_at=utc_now(), period=_shown(period), forums=[forum_figures(r) for r in rows]
    )


async def forum(conn: Connection, generation: int, forum_id: UUID) -> ForumReport | None:
    row = await queries.forum(conn, generation, forum_id)
    if row is None:
        return None
    organizations = await queries.forum_organizations(conn, generation, forum_id)
    return ForumReport(
        **forum_figures(row).model_dump(),
        generated_at=utc_now(),
        organizations=[
            ForumOrganization(**{k: v for k, v in r.items() if k in ForumOrganization.model_fields})
            for r in organizations
        ],
    )


async def funnel(conn: Connection, generation: int, period: Period) -> FunnelReport:
    row = await queries.funnel(conn, generation, period.since, period.until)
    registered, interested, joined = row["registered"], row["interested"], row["joined"]
    to_interest, to_join = _days(row["days_to_interest"]), _days(row["days_to_join"])

    def share(count: int) -> float | None:
        return round(count / registered, RATE_DIGITS) if registered else None

    return FunnelReport(
        generated_at=utc_now(),
        period=_shown(period),
        registered_for_forum=registered,
        declared_interest=interested,
        joined_as_partner=joined,
        median_days_registration_to_interest=to_interest,
        median_days_interest_to_joining=to_join,
        steps=[
            FunnelStep(
                step="registered_for_forum",
                organizations=registered,
                share_of_registered=share(registered),
                median_days_from_previous_step=None,
            ),
            FunnelStep(
                step="declared_interest",
                organizations=interested,
                share_of_registered=share(interested),
                median_days_from_previous_step=to_interest,
            ),
            FunnelStep(
                step="joined_as_partner",
                organizations=joined,
                share_of_registered=share(joined),
                median_days_from_previous_step=to_join,
            ),
        ],
    )


def _days(value: float | None) -> float | None:
    return None if value is None else round(float(value), DAYS_DIGITS)


async def emails(conn: Connection, generation: int, period: Period) -> EmailReport:
    by_kind = [
        EmailKind(**row)
        for row in await queries.emails_by_kind(conn, generation, period.since, period.until)
    ]
    failures = await queries.email_failures_by_day(conn, generation, period.since, period.until)
    return EmailReport(
        generated_at=utc_now(),
        period=_shown(period),
        sent=sum(kind.sent for kind in by_kind),
        failed=sum(kind.failed for kind in by_kind),
        by_kind=by_kind,
        failures_by_day=[
            EmailFailuresDay(day=date.fromisoformat(row["day"]), failed=row["failed"])
            for row in failures
        ],
    )
