"""What the reports, the dashboard and the metrics read: aggregates of one generation,
computed when asked (never kept as counters, so they are right whatever the arrival order)."""

from datetime import datetime
from typing import Any

from services.runtime.db import Connection

Rows = list[dict[str, Any]]
# Grouping by day and month happens in the staff's time zone.
ZONE = "Europe/Berlin"


def _rows(records: list[Any]) -> Rows:
    return [dict(record) for record in records]


async def organizations_by_status_and_kind(conn: Connection, generation: int) -> Rows:
    return _rows(
        await conn.fetch(
            "SELECT COALESCE(status, 'unknown') AS status, COALESCE(kind, 'unknown') AS kind,"
            " count(*) AS organizations FROM reporting.organizations WHERE generation = $1"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            generation,
        )
    )


async def organizations_by_district(conn: Connection, generation: int) -> Rows:
    return _rows(
        await conn.fetch(
            "SELECT district, count(*) AS organizations,"
            " count(*) FILTER (WHERE status = 'partner') AS partners"
            " FROM reporting.organizations WHERE generation = $1"
            " GROUP BY district ORDER BY count(*) DESC, district NULLS LAST",
            generation,
        )
    )


async def steps_by_month(conn: Connection, generation: int) -> Rows:
    """Per month (Europe/Berlin) and step, how many organisation events of that step."""
    return _rows(
        await conn.fetch(
            f"SELECT to_char(at AT TIME ZONE '{ZONE}', 'YYYY-MM') AS month, step,"
            " count(*) AS events FROM reporting.organization_steps WHERE generation = $1"
            " GROUP BY 1, 2 ORDER BY 1",
            generation,
        )
    )


async def partners_left(
    conn: Connection, generation: int, since: datetime | None, until: datetime | None
) -> Rows:
    """Organisations that are former partners now, with when they last left."""
    return _rows(
        await conn.fetch(
            "SELECT o.organization_id, o.name, max(s.at) AS left_at"
            " FROM reporting.organizations o JOIN reporting.organization_steps s"
            "   ON s.generation = o.generation AND s.organization_id = o.organization_id"
            "   AND s.step = 'left'"
            " WHERE o.generation = $1 AND o.status = 'former'"
            " GROUP BY o.organization_id, o.name"
            " HAVING ($2::timestamptz IS NULL OR max(s.at) >= $2)"
            "   AND ($3::timestamptz IS NULL OR max(s.at) < $3)"
            " ORDER BY left_at DESC",
            generation,
            since,
            until,
        )
    )


_FORUM_FIGURES = """
SELECT f.forum_id, f.title, f.format, f.status, f.topics, f.venue, f.starts_at, f.ends_at,
    f.registration_deadline, f.capacity, f.attendance, f.held_at, f.cancelled_at,
    COALESCE(sum(r.attendees) FILTER (WHERE r.status = 'confirmed'), 0) AS seats_confirmed,
    COALESCE(sum(r.attendees) FILTER (WHERE r.status = 'waitlisted'), 0) AS seats_waitlisted,
    COALESCE(sum(r.attendees) FILTER (WHERE r.status = 'cancelled'), 0) AS seats_cancelled,
    count(r.registration_id) FILTER (WHERE r.status = 'confirmed') AS registrations_confirmed,
    count(r.registration_id) FILTER (WHERE r.status = 'waitlisted') AS waitlist_length,
    count(r.registration_id) FILTER (WHERE r.status = 'cancelled') AS registrations_cancelled,
    count(DISTINCT r.organization_id) FILTER (WHERE r.status <> 'cancelled')
        AS organizations_registered,
    count(DISTINCT r.organization_id) FILTER (WHERE r.status <> 'cancelled' AND r.wants_to_present)
        AS organizations_presenting,
    count(r.registration_id) FILTER (WHERE r.status <> 'cancelled' AND r.accessibility_needs)
        AS accessibility_needs,
    count(r.registration_id) FILTER (WHERE r.status <> 'cancelled' AND r.interpreter_needs)
        AS interpreter_needs,
    count(a.registration_id) FILTER (WHERE r.status = 'confirmed') AS registrations_attended
FROM reporting.forums f
LEFT JOIN reporting.registrations r ON r.generation = f.generation AND r.forum_id = f.forum_id
LEFT JOIN reporting.attendances a
    ON a.generation = r.generation AND a.registration_id = r.registration_id
WHERE f.generation = $1 AND {condition}
GROUP BY f.generation, f.forum_id
ORDER BY f.starts_at NULLS LAST, f.title
"""


async def forums(
    conn: Connection, generation: int, since: datetime | None, until: datetime | None
) -> Rows:
    """Every forum starting within [since, until) (either end open), with its figures."""
    condition = (
        "($2::timestamptz IS NULL OR f.starts_at >= $2)"
        " AND ($3::timestamptz IS NULL OR f.starts_at < $3)"
    )
    return _rows(
        await conn.fetch(_FORUM_FIGURES.format(condition=condition), generation, since, until)
    )


async def scheduled_forums(conn: Connection, generation: int) -> Rows:
    """The forums still ahead (status scheduled), with their figures."""
    return _rows(
        await conn.fetch(_FORUM_FIGURES.format(condition="f.status = 'scheduled'"), generation)
    )


async def forum(conn: Connection, generation: int, forum_id: Any) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        _FORUM_FIGURES.format(condition="f.forum_id = $2"), generation, forum_id
    )
    return dict(row) if row else None


async def forum_organizations(conn: Connection, generation: int, forum_id: Any) -> Rows:
    """Who registered for the forum: the organisation's name (none once erased), never a
    contact."""
    return _rows(
        await conn.fetch(
            "SELECT r.registration_id, r.organization_id, o.name AS organization_name,"
            " r.status, r.attendees, r.wants_to_present, r.interested_in_partnership,"
            " a.registration_id IS NOT NULL AS attended, r.registered_at"
            " FROM reporting.registrations r"
            " LEFT JOIN reporting.organizations o"
            "   ON o.generation = r.generation AND o.organization_id = r.organization_id"
            " LEFT JOIN reporting.attendances a"
            "   ON a.generation = r.generation AND a.registration_id = r.registration_id"
            " WHERE r.generation = $1 AND r.forum_id = $2"
            " ORDER BY r.status, o.name NULLS LAST, r.registration_id",
            generation,
            forum_id,
        )
    )


_FUNNEL = """
WITH first_registration AS (
    SELECT organization_id, min(COALESCE(registered_at, first_seen_at)) AS registered_at
    FROM reporting.registrations WHERE generation = $1 GROUP BY organization_id
), interest AS (
    SELECT p.organization_id, p.registered_at,
        (SELECT min(s.at) FROM reporting.organization_steps s
         WHERE s.generation = $1 AND s.organization_id = p.organization_id
           AND s.step = 'interested' AND s.at >= p.registered_at) AS interested_at
    FROM first_registration p
    WHERE ($2::timestamptz IS NULL OR p.registered_at >= $2)
      AND ($3::timestamptz IS NULL OR p.registered_at < $3)
), path AS (
    SELECT i.*,
        (SELECT min(s.at) FROM reporting.organization_steps s
         WHERE s.generation = $1 AND s.organization_id = i.organization_id
           AND s.step = 'joined' AND s.at >= i.interested_at) AS joined_at
    FROM interest i
)
SELECT count(*) AS registered, count(interested_at) AS interested, count(joined_at) AS joined,
    percentile_cont(0.5) WITHIN GROUP (
        ORDER BY extract(epoch FROM interested_at - registered_at) / 86400) AS days_to_interest,
    percentile_cont(0.5) WITHIN GROUP (
        ORDER BY extract(epoch FROM joined_at - interested_at) / 86400) AS days_to_join
FROM path
"""


async def funnel(
    conn: Connection, generation: int, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """Organisations whose first forum registration falls within [since, until): how many
    declared interest after it, how many joined after that, and the median days between."""
    row = await conn.fetchrow(_FUNNEL, generation, since, until)
    assert row is not None
    return dict(row)


async def emails_by_kind(
    conn: Connection, generation: int, since: datetime | None, until: datetime | None
) -> Rows:
    return _rows(
        await conn.fetch(
            "SELECT kind, count(*) FILTER (WHERE result = 'sent') AS sent,"
            " count(*) FILTER (WHERE result = 'failed') AS failed"
            " FROM reporting.deliveries WHERE generation = $1"
            " AND ($2::timestamptz IS NULL OR result_at >= $2)"
            " AND ($3::timestamptz IS NULL OR result_at < $3)"
            " GROUP BY kind ORDER BY kind",
            generation,
            since,
            until,
        )
    )


async def email_failures_by_day(
    conn: Connection, generation: int, since: datetime | None, until: datetime | None
) -> Rows:
    return _rows(
        await conn.fetch(
            f"SELECT to_char(result_at AT TIME ZONE '{ZONE}', 'YYYY-MM-DD') AS day,"
            " count(*) AS failed FROM reporting.deliveries"
            " WHERE generation = $1 AND result = 'failed'"
            " AND ($2::timestamptz IS NULL OR result_at >= $2)"
            " AND ($3::timestamptz IS NULL OR result_at < $3)"
            " GROUP BY 1 ORDER BY 1",
            generation,
            since,
            until,
        )
    )


_ACTIVITY = """
(SELECT s.at, 'organization_' || s.step AS activity, o.name AS organization_name,
        NULL::text AS forum_title
 FROM reporting.organization_steps s
 LEFT JOIN reporting.organizations o
   ON o.generation = s.generation AND o.organization_id = s.organization_id
 WHERE s.generation = $1 ORDER BY s.at DESC LIMIT $2)
UNION ALL
(SELECT r.registered_at, 'registration_made', o.name, f.title
 FROM reporting.registrations r
 LEFT JOIN reporting.organizations o
   ON o.generation = r.generation AND o.organization_id = r.organization_id
 LEFT JOIN reporting.forums f ON f.generation = r.generation AND f.forum_id = r.forum_id
 WHERE r.generation = $1 AND r.registered_at IS NOT NULL ORDER BY r.registered_at DESC LIMIT $2)
UNION ALL
(SELECT r.cancelled_at, 'registration_cancelled', o.name, f.title
 FROM reporting.registrations r
 LEFT JOIN reporting.organizations o
   ON o.generation = r.generation AND o.organization_id = r.organization_id
 LEFT JOIN reporting.forums f ON f.generation = r.generation AND f.forum_id = r.forum_id
 WHERE r.generation = $1 AND r.cancelled_at IS NOT NULL ORDER BY r.cancelled_at DESC LIMIT $2)
UNION ALL
(SELECT COALESCE(f.held_at, f.cancelled_at),
        CASE WHEN f.held_at IS NOT NULL THEN 'forum_held' ELSE 'forum_cancelled' END,
        NULL, f.title
 FROM reporting.forums f
 WHERE f.generation = $1 AND (f.held_at IS NOT NULL OR f.cancelled_at IS NOT NULL)
 ORDER BY COALESCE(f.held_at, f.cancelled_at) DESC LIMIT $2)
ORDER BY 1 DESC LIMIT $2
"""


async def recent_activity(conn: Connection, generation: int, limit: int) -> Rows:
    """The latest steps of organisations, registrations and forums (names, never contacts)."""
    return _rows(await conn.fetch(_ACTIVITY, generation, limit))


async def topic_progress(conn: Connection, generation: int) -> Rows:
    return _rows(
        await conn.fetch(
            "SELECT topic, events, last_event_at FROM reporting.topic_progress"
            " WHERE generation = $1 ORDER BY topic",
            generation,
        )
    )


async def totals(conn: Connection, generation: int) -> dict[str, Any]:
    """The counters of the metrics: registrations, cancellations, forums held, attendance."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM reporting.registrations WHERE generation = $1)"
        "   AS registrations,"
        " (SELECT count(*) FROM reporting.registrations WHERE generation = $1"
        "   AND status = 'cancelled') AS cancellations,"
        " (SELECT count(*) FROM reporting.forums WHERE generation = $1 AND status = 'held')"
        "   AS forums_held,"
        " (SELECT COALESCE(sum(attendance), 0) FROM reporting.forums WHERE generation = $1"
        "   AND status = 'held') AS attendance",
        generation,
    )
    assert row is not None
    return dict(row)


async def registrations_by_status(conn: Connection, generation: int) -> Rows:
    return _rows(
        await conn.fetch(
            "SELECT status, count(*) AS registrations FROM reporting.registrations"
            " WHERE generation = $1 GROUP BY status ORDER BY status",
            generation,
        )
    )


async def projection_latency(conn: Connection) -> Rows:
    return _rows(
        await conn.fetch(
            "SELECT topic, bucket, observations, seconds FROM reporting.projection_latency"
            " ORDER BY topic, bucket"
        )
    )


async def dead_letters_by_topic(conn: Connection) -> Rows:
    return _rows(
        await conn.fetch(
            "SELECT topic, count(*) AS dead_letters, max(dead_lettered_at) AS last_at"
            " FROM reporting.dead_letters GROUP BY topic ORDER BY topic"
        )
    )
