"""Transactional outbox: append events with the state change; the relay publishes them in order."""

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from asyncpg.pool import PoolConnectionProxy

from schemas.envelope import Envelope
from schemas.topics import Topic, topic_name
from services.runtime import metrics
from services.runtime.db import Connection
from services.runtime.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One event to publish on a topic; `subject_id` names the organisation it is about."""

    topic: Topic
    event: Envelope
    subject_id: UUID | None = None


def outbox_row(message: Outgoing) -> tuple[UUID, str, str, str, str, datetime, UUID | None]:
    event = message.event
    return (
        event.event_id,
        message.topic.value,
        event.key,
        event.type,
        event.model_dump_json(),
        event.occurred_at,
        message.subject_id,
    )


async def append(conn: Connection, schema: str, messages: Sequence[Outgoing]) -> None:
    """Write events into the outbox; the caller owns the transaction that holds the change."""
    if not messages:
        return
    await conn.executemany(
        f"INSERT INTO {schema}.outbox"
        " (event_id, topic, message_key, type, envelope, occurred_at, subject_id)"
        " VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7)",
        [outbox_row(message) for message in messages],
    )


def encode_envelope(envelope: dict[str, object]) -> bytes:
    """The message value: compact JSON in UTF-8.

    ensure_ascii=False: json.dumps' default escapes every non-ASCII character to six bytes
    (`\\u00fc`) where UTF-8 needs two, so German text grew the event (a German envelope of the
    unit test: 485 bytes escaped, 441 in UTF-8; umlauts alone: 3 times the size) and brought an
    event sooner to the producer's `max_request_size`.
    """
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


async def pending_count(conn: Connection, schema: str) -> int:
    """Events written but not (yet, or again) published."""
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM {schema}.outbox WHERE status = 'not_published'"
    )
    return count


def relay_lock_key(schema: str) -> int:
    """The advisory lock that lets one relay per schema publish at a time."""
    return zlib.crc32(f"dialognet-outbox-{schema}".encode())


class OutboxRelay:
    """Publishes outbox rows in id order and marks them published.

    Only one relay per schema publishes at a time (a transaction-scoped advisory lock), so
    replicas never interleave batches and per-key order holds. A crash between publishing and
    marking means the batch is published again: consumers dedupe by `event_id`.
    """

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        schema: str,
        topic_prefix: str,
        batch_size: int,
        poll_interval_seconds: float,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._poll_interval = poll_interval_seconds
        self._wake = asyncio.Event()
        self._lock_key = relay_lock_key(schema)
        self._pending_reported_at = 0.0
        self._channel = f"{schema}_outbox"
        self._listener: PoolConnectionProxy[asyncpg.Record] | None = None

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._ensure_listening()
                    while await self.publish_batch() == self._batch_size:
                        pass
                    await self._report_pending()  # at most once per poll interval
                # KafkaError too: a broker outage must not end the relay for good.
                except (TimeoutError, OSError, KafkaError, asyncpg.PostgresError) as error:
                    log.warning("outbox relay: publishing failed, will retry: %s", error)
                    metrics.OUTBOX_PUBLISH_FAILURES.labels(self._schema).inc()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                self._wake.clear()
        finally:
            await self._stop_listening()

    async def _ensure_listening(self) -> None:
        """LISTEN, again after the connection died (database restart, terminated backend), or
        the relay would fall back to polling for good; what was committed while nobody
        listened is published by the batch that follows."""
        if self._listener is not None:
            return
        listener = await self._pool.acquire()
        try:
            await listener.add_listener(self._channel, self._on_notify)
        except BaseException:
            await self._pool.release(listener)
            raise
        listener.add_termination_listener(self._on_listener_lost)
        self._listener = listener

    async def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.remove_termination_listener(self._on_listener_lost)
        with contextlib.suppress(Exception):  # stopping: the database may be gone already
            await listener.remove_listener(self._channel, self._on_notify)
        await self._pool.release(listener)

    def _on_listener_lost(self, *_: object) -> None:
        # The pool has taken the dead connection back already: listen anew now, not only
        # after the poll interval.
        self._listener = None
        self._wake.set()

    async def _report_pending(self) -> None:
        now = time.monotonic()
        if now - self._pending_reported_at < self._poll_interval:
            return
        self._pending_reported_at = now
        async with self._pool.acquire() as conn:
            pending = await pending_count(conn, self._schema)
        metrics.OUTBOX_PENDING.labels(self._schema).set(pending)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            # No rows either when nothing waits or when another replica holds the lock and is
            # relaying right now; the lock is taken once per statement (an InitPlan).
            rows = await conn.fetch(
                "SELECT id, topic, message_key, type, envelope"
                f" FROM {self._schema}.outbox WHERE status = 'not_published'"
                " AND (SELECT pg_try_advisory_xact_lock($2))"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
                self._lock_key,
            )
            if not rows:
                return 0
            await self._send_in_order(rows)
            await conn.execute(
                f"UPDATE {self._schema}.outbox SET status = 'published', published_at = now()"
                " WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        metrics.OUTBOX_PUBLISHED.labels(self._schema).inc(len(rows))
        return len(rows)

    async def _send_in_order(self, rows: Sequence[asyncpg.Record]) -> None:
        # send() queues in call order per partition; awaiting all acks afterwards keeps order
        # while letting the producer batch.
        deliveries = [
            await self._producer.send(
                topic_name(Topic(row["topic"]), self._prefix),
                value=encode_envelope(row["envelope"]),
                key=row["message_key"].encode() or None,
                headers=[("type", row["type"].encode())],
            )
            for row in rows
        ]
        await asyncio.gather(*deliveries)


def relay_for(
    settings: Settings, *, pool: asyncpg.Pool, producer: AIOKafkaProducer, schema: str
) -> OutboxRelay:
    return OutboxRelay(
        pool=pool,
        producer=producer,
        schema=schema,
        topic_prefix=settings.topic_prefix,
        batch_size=settings.outbox_batch_size,
        poll_interval_seconds=settings.outbox_poll_interval_seconds,
    )


async def mark_for_replay(
    conn: Connection,
    schema: str,
    *,
    since: datetime | None = None,
    event_type: str | None = None,
) -> int:
    """Queue published events again; the relay republishes them in their original order."""
    result: str = await conn.execute(
        f"UPDATE {schema}.outbox SET status = 'not_published', published_at = NULL"
        " WHERE status = 'published'"
        " AND ($1::timestamptz IS NULL OR occurred_at >= $1)"
        " AND ($2::text IS NULL OR type = $2)",
        since,
        event_type,
    )
    return int(result.split()[-1])
