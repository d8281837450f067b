"""Forum commands: schedule, update, cancel, mark held — one transaction each."""

from uuid import UUID

import asyncpg

from schemas import commands
from schemas.topics import Topic
from services.registration import waitlist
from services.registration.domain import forums as rules
from services.registration.domain.errors import NotFound
from services.registration.domain.forums import Forum
from services.registration.domain.trace import Trace
from services.registration.store import facts
from services.registration.store import forums as store
from services.registration.store import registrations as registration_store
from services.runtime import unit_of_work
from services.runtime.db import Connection
from services.runtime.unit_of_work import UnitOfWork


async def require(conn: Connection, forum_id: UUID, *, lock: bool = False) -> Forum:
    forum = await store.get(conn, forum_id, lock=lock)
    if forum is None:
        raise NotFound(f"no forum {forum_id}", field="forum_id")
    return forum


class ForumService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def schedule(
        self, command: commands.ScheduleForum, trace: Trace, unit: UnitOfWork | None = None
    ) -> Forum:
        forum, event = rules.schedule(command, trace)
        async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
            await store.insert(conn, forum)
            await facts.append(conn, Topic.FORUMS, [event])
        return forum

    async def update(
        self,
        forum_id: UUID,
        patch: commands.UpdateForum,
        trace: Trace,
        unit: UnitOfWork | None = None,
    ) -> Forum:
        async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
            forum = await require(conn, forum_id, lock=True)
            changed, event = rules.update(forum, patch, trace)
            await store.save_details(conn, changed)
            await facts.append(conn, Topic.FORUMS, [event])
            # More seats may let the waitlist move up.
            return await waitlist.promote(conn, changed, trace)

    async def cancel(
        self,
        forum_id: UUID,
        command: commands.CancelForum,
        trace: Trace,
        unit: UnitOfWork | None = None,
    ) -> Forum:
        """The forum's fact first, then its waitlist ends: every waitlisted registration is
        cancelled with `cancelled_by: forum` (confirmed ones keep the seat they had)."""
        async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
            forum = await require(conn, forum_id, lock=True)
            changed, event = rules.cancel(forum, command.reason, trace)
            await store.record_cancelled(conn, forum_id, command.reason)
            await facts.append(conn, Topic.FORUMS, [event])
            return await waitlist.end(conn, changed, command.reason, trace)

    async def mark_held(
        self,
        forum_id: UUID,
        command: commands.MarkForumHeld,
        trace: Trace,
        unit: UnitOfWork | None = None,
    ) -> Forum:
        async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
            forum = await require(conn, forum_id, lock=True)
            confirmed = await registration_store.confirmed_ids(conn, forum_id)
            changed, event = rules.mark_held(forum, command, confirmed, trace)
            await store.record_held(
                conn,
                forum_id,
                attendance=command.attendance,
                attended=command.attended_registration_ids,
                outcomes=command.outcomes,
            )
            await facts.append(conn, Topic.FORUMS, [event])
        return changed

    async def get(self, forum_id: UUID) -> Forum:
        async with self._pool.acquire() as conn:
            return await require(conn, forum_id)
