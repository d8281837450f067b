"""What every service runs on, started in order and stopped in reverse: its pool (migrated), the
access store, the topics, a producer, its outbox relay, its broker with the subscriptions, and
supervised background tasks — with one readiness check each.

A service's composition root opens a host, adds its subscriptions and tasks, starts it, and
keeps only what is its own (command services, routes). Nothing here knows a service.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from services.runtime import db, kafka, kafka_topics
from services.runtime.access.database import AccessDatabase
from services.runtime.background import SupervisedTask
from services.runtime.consumer import (
    BatchHandler,
    EnvelopeHandler,
    Subscription,
    subscribe,
    subscribe_batches,
)
from services.runtime.http import Check
from services.runtime.outbox import relay_for
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

# The relay's name in /health/ready and in the background task metrics.
OUTBOX_RELAY = "outbox_relay"


def build_broker(settings: Settings, service: str) -> KafkaBroker:
    return kafka.new_broker(
        settings,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"dialognet_{service}")],
    )


@dataclass
class ServiceHost:
    """A started service's infrastructure; `checks()` feeds /health/ready."""

    service: str
    settings: Settings
    pool: asyncpg.Pool
    access: AccessDatabase
    producer: AIOKafkaProducer
    broker: KafkaBroker
    relay: SupervisedTask
    subscriptions: dict[str, Subscription[Any]] = field(default_factory=dict)
    tasks: list[SupervisedTask] = field(default_factory=list)
    started: bool = False

    def subscribe(
        self,
        check_name: str,
        topics: Sequence[str],
        *,
        consumer: str,
        handler: EnvelopeHandler,
        **options: Any,
    ) -> Subscription[dict[str, Any]]:
        """Consume `topics` in the group `<prefix><consumer>` through the runtime's wrapper
        (effect, dead letter or retry for every message); `check_name` names it in
        /health/ready. Before `start()` only."""
        assert not self.started, "subscriptions are made before the broker starts"
        subscription = subscribe(
            self.broker,
            topics,
            consumer=consumer,
            group_id=self.group_id(consumer),
            handler=handler,
            dead_letters=self.producer,
            **{**kafka.consumer_options(self.settings), **options},
        )
        self.subscriptions[check_name] = subscription
        return subscription

    def subscribe_batches(
        self,
        check_name: str,
        topics: Sequence[str],
        *,
        consumer: str,
        handler: BatchHandler[Any],
        max_records: int,
        batch_timeout_ms: int,
        **options: Any,
    ) -> Subscription[Any]:
        """As `subscribe`, in the same group `<prefix><consumer>`, with a batch handler: up to
        `max_records` messages of one fetch a transaction."""
        assert not self.started, "subscriptions are made before the broker starts"
        subscription = subscribe_batches(
            self.broker,
            topics,
            consumer=consumer,
            group_id=self.group_id(consumer),
            handler=handler,
            dead_letters=self.producer,
            max_records=max_records,
            batch_timeout_ms=batch_timeout_ms,
            **{**kafka.consumer_options(self.settings), **options},
        )
        self.subscriptions[check_name] = subscription
        return subscription

    def group_id(self, consumer: str) -> str:
        """The consumer group of `consumer`: the same for every replica of the service."""
        return f"{self.settings.kafka_consumer_group_prefix}{consumer}"

    def run_in_background(self, name: str, work: Callable[[], Awaitable[None]]) -> SupervisedTask:
        """Supervised work (restarted after a crash, named `name` in /health/ready)."""
        task = SupervisedTask(name, work)
        self.tasks.append(task)
        if self.started:
            task.start()
        return task

    async def start(self) -> None:
        self.relay.start()
        await self.broker.start()
        for task in self.tasks:
            task.start()
        self.started = True

    def checks(self) -> dict[str, Check]:
        checks: dict[str, Check] = {
            "database": lambda: db.ping(self.pool),
            "access": lambda: db.ping(self.access.pool),
            "broker": self._broker_ready,
            OUTBOX_RELAY: self.relay.check_running,
        }
        checks.update(
            {name: subscription.ready for name, subscription in self.subscriptions.items()}
        )
        checks.update({task.name: task.check_running for task in self.tasks})
        return checks

    async def _broker_ready(self) -> None:
        if not await self.broker.ping(timeout=2.0):
            raise ConnectionError("broker not reachable")

    async def stop(self) -> None:
        await self.broker.stop()
        for task in reversed(self.tasks):
            await task.stop()
        await self.relay.stop()


@contextlib.asynccontextmanager
async def hosted(
    settings: Settings,
    *,
    service: str,
    schema: str,
    migrations: str,
    relay_linger_seconds: float = 0.0,
) -> AsyncIterator[ServiceHost]:
    """Open a service's host: pool and migrations of `schema`, the access store, the topics,
    a producer, the outbox relay (not yet running; lingering `relay_linger_seconds` after a
    commit woke it); the caller subscribes, then `start()`s. Everything is stopped in reverse
    when the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        pool = await db.create_pool(
            settings.service_database_url(service),
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
        )
        stack.push_async_callback(pool.close)
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=schema, package=migrations)
        access = await AccessDatabase.open(settings, service, pool)
        stack.push_async_callback(access.close)
        await kafka.check_login(settings)
        await kafka_topics.ensure_topics(settings)
        producer = kafka.new_producer(settings)
        await producer.start()
        stack.push_async_callback(producer.stop)
        relay = relay_for(
            settings,
            pool=pool,
            producer=producer,
            schema=schema,
            linger_seconds=relay_linger_seconds,
        )
        host = ServiceHost(
            service=service,
            settings=settings,
            pool=pool,
            access=access,
            producer=producer,
            broker=build_broker(settings, service),
            relay=SupervisedTask(OUTBOX_RELAY, relay.run),
        )
        stack.push_async_callback(host.stop)
        yield host
        log.info("%s service stopping", service)
