"""Forums table."""

from datetime import datetime
from uuid import UUID

import asyncpg

from schemas.vocabulary import Audience, ForumFormat, ForumStatus
from services.registration.domain.forums import Forum
from services.runtime.db import Connection

COLUMNS = (
    "id, format, title, topics, venue, starts_at, ends_at, registration_deadline, capacity,"
    " seats_per_organization, audience, status, seats_taken, waitlist_length"
)


def qualified_columns(table: str) -> str:
    return ", ".join(f"{table}.{name.strip()}" for name in COLUMNS.split(","))


def from_row(row: asyncpg.Record) -> Forum:
    return Forum(
        id=row["id"],
        format=ForumFormat(row["format"]),
        title=row["title"],
        topics=list(row["topics"]),
        venue=row["venue"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        registration_deadline=row["registration_deadline"],
        capacity=row["capacity"],
        seats_per_organization=row["seats_per_organization"],
        audience=Audience(row["audience"]),
        status=ForumStatus(row["status"]),
        seats_taken=row["seats_taken"],
        waitlist_length=row["waitlist_length"],
    )


def _details(forum: Forum) -> tuple[object, ...]:
    """$1..$12 of INSERT and of save_details, in column order."""
    return (
        forum.id,
        forum.format.value,
        forum.title,
        forum.topics,
        forum.venue,
        forum.starts_at,
        forum.ends_at,
        forum.registration_deadline,
        forum.capacity,
        forum.seats_per_organization,
        forum.audience.value,
        forum.status.value,
    )


async def insert(conn: Connection, forum: Forum) -> None:
    await conn.execute(
        "INSERT INTO registration.forums (id, format, title, topics, venue, starts_at, ends_at,"
        " registration_deadline, capacity, seats_per_organization, audience, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        *_details(forum),
    )


async def get(conn: Connection, forum_id: UUID, *, lock: bool = False) -> Forum | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM registration.forums WHERE id = $1"
        + (" FOR UPDATE" if lock else ""),
        forum_id,
    )
    return from_row(row) if row else None


async def save_details(conn: Connection, forum: Forum) -> None:
    await conn.execute(
        "UPDATE registration.forums SET format = $2, title = $3, topics = $4, venue = $5,"
        " starts_at = $6, ends_at = $7, registration_deadline = $8, capacity = $9,"
        " seats_per_organization = $10, audience = $11, status = $12, updated_at = now()"
        " WHERE id = $1",
        *_details(forum),
    )


async def save_counters(conn: Connection, forum: Forum) -> None:
    await conn.execute(
        "UPDATE registration.forums SET seats_taken = $2, waitlist_length = $3, updated_at = now()"
        " WHERE id = $1",
        forum.id,
        forum.seats_taken,
        forum.waitlist_length,
    )


async def record_held(
    conn: Connection, forum_id: UUID, *, attendance: int, attended: list[UUID], outcomes: str | None
) -> None:
    await conn.execute(
        "UPDATE registration.forums SET status = 'held', attendance = $2,"
        " attended_registration_ids = $3, outcomes = $4, held_at = now(), updated_at = now()"
        " WHERE id = $1",
        forum_id,
        attendance,
        attended,
        outcomes,
    )
    await conn.execute(
        "UPDATE registration.registrations SET attended = (id = ANY($2::uuid[]))"
        " WHERE forum_id = $1 AND status = 'confirmed'",
        forum_id,
        attended,
    )


async def record_cancelled(conn: Connection, forum_id: UUID, reason: str | None) -> None:
    await conn.execute(
        "UPDATE registration.forums SET status = 'cancelled', cancel_reason = $2,"
        " cancelled_at = now(), updated_at = now() WHERE id = $1",
        forum_id,
        reason,
    )


async def list_page(
    conn: Connection,
    *,
    audience: str | None,
    status: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Forum]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM registration.forums"
        " WHERE ($1::text IS NULL OR audience = $1) AND ($2::text IS NULL OR status = $2)"
        " AND ($3::timestamptz IS NULL OR (starts_at, id) > ($3::timestamptz, $4::uuid))"
        " ORDER BY starts_at, id LIMIT $5",
        audience,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [from_row(row) for row in rows]
