"""The reminders: when one falls due, plan a forum_reminder for each confirmed registrant (who
had registered by then), exactly once — claimed with FOR UPDATE SKIP LOCKED, so with several
replicas each reminder is planned by one of them."""

import asyncio
from collections.abc import Callable
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg

from schemas.envelope import utc_now
from services.notification.domain import planning
from services.notification.domain.planning import Occasion
from services.notification.facts import Policy
from services.notification.store import deliveries, known, reminders
from services.notification.store.reminders import DueReminder
from services.runtime.db import Connection

BATCH = 20
# What the deliveries of a reminder name as their source (there is no fact behind one).
SOURCE_TYPE = "forum.reminder"


def reminder_id(reminder: DueReminder) -> UUID:
    """Stable per forum and start time: planning it again adds nothing; a new start time owes
    a new reminder."""
    return uuid5(NAMESPACE_URL, f"dialognet:reminder:{reminder.forum_id}:{reminder.starts_at}")


class Reminders:
    def __init__(
        self,
        pool: asyncpg.Pool,
        policy: Policy,
        poll_seconds: float,
        planned: Callable[[], None],
    ) -> None:
        """`planned` is called when deliveries were added (to wake the sender)."""
        self._pool = pool
        self._policy = policy
        self._poll_seconds = poll_seconds
        self._planned = planned

    async def run(self) -> None:
        """Until cancelled (a supervised task)."""
        while True:
            if await self.plan_due():
                self._planned()
            await asyncio.sleep(self._poll_seconds)

    async def plan_due(self) -> int:
        """Plan every reminder due now; returns how many deliveries were added."""
        added = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for reminder in await reminders.claim_due(conn, utc_now(), BATCH):
                added += await self._plan(conn, reminder)
                await reminders.mark_done(conn, reminder.forum_id, utc_now())
        return added

    async def _plan(self, conn: Connection, reminder: DueReminder) -> int:
        forum = await known.forum(conn, reminder.forum_id)
        if forum is None or forum.status != "scheduled":
            return 0
        occasion = Occasion(
            event_id=reminder_id(reminder),
            event_type=SOURCE_TYPE,
            correlation_id=None,
            occurred_at=reminder.due_at,
            now=utc_now(),
            max_age=self._policy.max_age,
            calendar_domain=self._policy.mail_domain,
        )
        registered = await known.registrations_of(conn, forum.id)
        planned = planning.forum_reminder(
            occasion, forum, registered, reminder.due_at, self._policy.links
        )
        return await deliveries.insert_planned(
            conn, planned, mail_domain=self._policy.mail_domain, due=utc_now()
        )
