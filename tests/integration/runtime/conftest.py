"""An outbox of its own for relay tests: a schema with the runtime's tables, relays on it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import cast

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from schemas.envelope import Envelope
from schemas.topics import Topic, topic_name
from services.runtime import db, kafka, kafka_topics
from services.runtime.outbox import OutboxRelay, Outgoing, append, relay_for
from services.runtime.settings import Settings

SCHEMA = "relay_test"

# Stands between the relay and its real producer, to make the broker answer otherwise.
ProducerWrapper = Callable[[AIOKafkaProducer], object]


@dataclass
class Outbox:
    """A schema holding only the runtime's outbox and inbox, and what a relay needs."""

    settings: Settings
    pool: asyncpg.Pool

    def topic(self) -> str:
        return topic_name(Topic.FORUMS, self.settings.topic_prefix)

    async def append(self, events: list[Envelope], scrub_on_publish: tuple[str, ...] = ()) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await append(
                conn,
                SCHEMA,
                [
                    Outgoing(Topic.FORUMS, event, scrub_on_publish=scrub_on_publish)
                    for event in events
                ],
            )

    async def rows(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT id, event_id, message_key, status, failed_at, failure_reason, envelope"
                f" FROM {SCHEMA}.outbox ORDER BY id"
            )

    async def unpublished(self) -> int:
        async with self.pool.acquire() as conn:
            count: int = await conn.fetchval(
                f"SELECT count(*) FROM {SCHEMA}.outbox WHERE status = 'not_published'"
            )
        return count

    async def none_pending(self) -> bool:
        return await self.unpublished() == 0

    @contextlib.asynccontextmanager
    async def relay(
        self,
        batch_size: int = 500,
        poll_interval_seconds: float = 1.0,
        through: ProducerWrapper | None = None,
        linger_seconds: float = 0.0,
    ) -> AsyncIterator[OutboxRelay]:
        """A relay with its own pool and producer, as one replica of a service would have;
        `through` wraps the producer."""
        pool = await db.create_pool(self.settings.service_database_url("relay"), max_size=3)
        producer = kafka.new_producer(self.settings)
        await producer.start()
        settings = self.settings.model_copy(
            update={
                "outbox_batch_size": batch_size,
                "outbox_poll_interval_seconds": poll_interval_seconds,
            }
        )
        sending = cast(AIOKafkaProducer, through(producer)) if through else producer
        try:
            yield relay_for(
                settings,
                pool=pool,
                producer=sending,
                schema=SCHEMA,
                linger_seconds=linger_seconds,
            )
        finally:
            await producer.stop()
            await pool.close()


@contextlib.asynccontextmanager
async def outbox_in(settings: Settings) -> AsyncIterator[Outbox]:
    """The topics and an outbox schema on `settings`' broker and database."""
    await kafka_topics.ensure_topics(settings)
    pool = await db.create_pool(settings.service_database_url("relay"), max_size=4)
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {SCHEMA}")
        for _, sql in db.migration_files(db.RUNTIME_MIGRATIONS, SCHEMA):
            await conn.execute(sql)
    try:
        yield Outbox(settings, pool)
    finally:
        await pool.close()


@pytest.fixture
async def outbox(settings: Settings) -> AsyncIterator[Outbox]:
    async with outbox_in(settings) as created:
        yield created


def event(key: str, sequence: int, event_type: str = "forum.updated", **data: object) -> Envelope:
    return Envelope(type=event_type, producer="test", key=key, data={"sequence": sequence, **data})


async def running(relay: OutboxRelay) -> asyncio.Task[None]:
    return asyncio.create_task(relay.run())


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
