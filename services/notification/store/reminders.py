"""The reminder each scheduled forum is owed, and claiming the due ones exactly once."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from services.runtime.db import Connection


@dataclass(frozen=True)
class DueReminder:
    forum_id: UUID
    starts_at: datetime
    due_at: datetime


async def schedule(conn: Connection, forum_id: UUID, starts_at: datetime, lead: timedelta) -> None:
    """Due `lead` before the start. A new start time schedules it anew (once more, if the one
    for the old time went out already); the same start leaves it as it is."""
    await conn.execute(
        "INSERT INTO notification.reminders AS r (forum_id, starts_at, due_at, status)"
        " VALUES ($1, $2, $3, 'scheduled')"
        " ON CONFLICT (forum_id) DO UPDATE SET starts_at = EXCLUDED.starts_at,"
        " due_at = EXCLUDED.due_at, status = 'scheduled', done_at = NULL"
        " WHERE r.starts_at <> EXCLUDED.starts_at OR r.status = 'cancelled'",
        forum_id,
        starts_at,
        starts_at - lead,
    )


async def cancel(conn: Connection, forum_id: UUID) -> None:
    """No reminder for a held or cancelled forum."""
    await conn.execute(
        "UPDATE notification.reminders SET status = 'cancelled'"
        " WHERE forum_id = $1 AND status = 'scheduled'",
        forum_id,
    )


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[DueReminder]:
    """Due reminders, locked for the caller's transaction; another replica skips them."""
    rows = await conn.fetch(
        "SELECT forum_id, starts_at, due_at FROM notification.reminders"
        " WHERE status = 'scheduled' AND due_at <= $1 ORDER BY due_at LIMIT $2"
        " FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [DueReminder(row["forum_id"], row["starts_at"], row["due_at"]) for row in rows]


async def mark_done(conn: Connection, forum_id: UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE notification.reminders SET status = 'done', done_at = $2 WHERE forum_id = $1",
        forum_id,
        at,
    )


async def next_due(conn: Connection) -> datetime | None:
    due: datetime | None = await conn.fetchval(
        "SELECT min(due_at) FROM notification.reminders WHERE status = 'scheduled'"
    )
    return due
