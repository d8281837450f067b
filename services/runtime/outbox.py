"""Transactional outbox: append events with the state change; the relay publishes them in order.

`append` writes outbox rows, and so do two more writers: the registration service's admitting
statement (ADMIT in services/registration/store/registrations.py) inserts its
`registration.made` row inside its one SQL statement, and the notification sender's finishing
statement (`finish` in services/notification/store/deliveries.py) its notification.sent or
.failed row. All name the columns of ROW_COLUMNS.
"""

import asyncio
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
from aiokafka.errors import InvalidTopicError, KafkaError

from schemas.envelope import Envelope
from schemas.topics import Topic, topic_name
from services.runtime import metrics
from services.runtime.db import Connection
from services.runtime.refusals import Refusal, not_allowed_to_write, refusal_of
from services.runtime.settings import Settings
from services.runtime.transient import is_transient
from services.runtime.wakeup import Wakeup

log = logging.getLogger(__name__)


# What a writer of an outbox row gives, in this order (the rest is the relay's).
ROW_COLUMNS = (
    "event_id, topic, message_key, type, envelope, occurred_at, subject_id, scrub_on_publish"
)


@dataclass(frozen=True)
class Outgoing:
    """One event to publish on a topic; `subject_id` names the organisation it is about, and
    `scrub_on_publish` the fields of its `data` the event log drops once it is published."""

    topic: Topic
    event: Envelope
    subject_id: UUID | None = None
    scrub_on_publish: tuple[str, ...] = ()


def outbox_row(
    message: Outgoing,
) -> tuple[UUID, str, str, str, str, datetime, UUID | None, list[str]]:
    event = message.event
    return (
        event.event_id,
        message.topic.value,
        event.key,
        event.type,
        event.model_dump_json(),
        event.occurred_at,
        message.subject_id,
        list(message.scrub_on_publish),
    )


async def append(conn: Connection, schema: str, messages: Sequence[Outgoing]) -> None:
    """Write events into the outbox; the caller owns the transaction that holds the change."""
    if not messages:
        return
    await conn.executemany(
        f"INSERT INTO {schema}.outbox ({ROW_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8)",
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
    # The status is written out, not a parameter: the partial index then counts, whatever
    # plan the prepared statement gets (the outbox keeps every event ever written).
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM {schema}.outbox WHERE status = 'not_published'"
    )
    return count


async def failed_count(conn: Connection, schema: str) -> int:
    """Events refused for good, waiting for `dialognet replay --failed`."""
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM {schema}.outbox WHERE status = 'failed'"
    )
    return count


def relay_lock_key(schema: str) -> int:
    """The advisory lock that lets one relay per schema publish at a time."""
    return zlib.crc32(f"dialognet-outbox-{schema}".encode())


# The rows to publish next, in id order, locked. No rows either when nothing waits or when
# another replica holds the lock and is relaying right now; the lock is taken once per
# statement (an InitPlan). SKIP LOCKED passes over an unpublished row another transaction
# holds (erasure rewrites unpublished envelopes), and publishing past it would put a later
# event of its key first: the batch ends before the first row it passed over, which goes out
# in a later round. Waiting for the row instead (plain FOR UPDATE) could deadlock: the relay
# holds its batch's locks while it waits, and erasure locks an organisation's rows in heap
# order, not in id order.
NEXT_BATCH = """
WITH locked AS (
    SELECT id, event_id, topic, message_key, type, envelope FROM {schema}.outbox
    WHERE status = 'not_published' AND (SELECT pg_try_advisory_xact_lock($2))
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
),
first_passed_over AS (
    SELECT min(id) AS id FROM {schema}.outbox
    WHERE status = 'not_published' AND id < (SELECT max(id) FROM locked)
        AND id NOT IN (SELECT id FROM locked)
)
SELECT locked.* FROM locked, first_passed_over
WHERE first_passed_over.id IS NULL OR locked.id < first_passed_over.id
ORDER BY locked.id
"""


class OutboxRelay:
    """Publishes outbox rows in id order and marks them published.

    Only one relay per schema publishes at a time (a transaction-scoped advisory lock), so
    replicas never interleave batches and per-key order holds. A crash between publishing and
    marking means the batch is published again: consumers dedupe by `event_id`. An event the
    broker or the client refuses for good (services.runtime.refusals) is marked `failed` with
    its reason and left for `dialognet replay --failed`; every later event is still published.
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
        linger_seconds: float = 0.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._poll_interval = poll_interval_seconds
        self._linger = linger_seconds
        self._lock_key = relay_lock_key(schema)
        self._next_batch = NEXT_BATCH.format(schema=schema)
        self._pending_reported_at = 0.0
        self._wakeup = Wakeup(pool, f"{schema}_outbox", poll_interval_seconds)

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._wakeup.listen()
                    while await self.publish_batch() == self._batch_size:
                        pass
                    await self._report_pending()  # at most once per poll interval
                # A broker or database outage must not end the relay: its round is tried again.
                # Anything else is a bug, and the supervisor restarts the relay (background.py).
                except Exception as error:
                    if not _worth_another_round(error):
                        raise
                    _log_failed_round(error)
                    metrics.OUTBOX_PUBLISH_FAILURES.labels(self._schema).inc()
                if await self._wakeup.wait() and self._linger:
                    # Woken by a commit: the rows of the commits right behind it go in the same
                    # round (settings.notification_outbox_linger_ms).
                    await asyncio.sleep(self._linger)
        finally:
            await self._wakeup.close()

    async def _report_pending(self) -> None:
        now = time.monotonic()
        if now - self._pending_reported_at < self._poll_interval:
            return
        self._pending_reported_at = now
        async with self._pool.acquire() as conn:
            pending = await pending_count(conn, self._schema)
        metrics.OUTBOX_PENDING.labels(self._schema).set(pending)

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows it took from the queue (published,
        or marked failed because they were refused for good)."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(self._next_batch, self._batch_size, self._lock_key)
            if not rows:
                return 0
            refused = await self._send_in_order(rows)
            await self._mark(conn, rows, refused)
        self._report_refused(rows, refused)
        metrics.OUTBOX_PUBLISHED.labels(self._schema).inc(len(rows) - len(refused))
        return len(rows)

    async def _send_in_order(self, rows: Sequence[asyncpg.Record]) -> dict[int, Refusal]:
        """Send every row; returns the rows refused for good, by id.

        A transient failure raises: nothing of the batch is marked then, and the round is
        retried (consumers dedupe what went out twice).
        """
        queued, refused = await self._queue_in_order(rows)
        # Awaiting all acks only after queuing every row keeps order while the producer batches.
        answers = await asyncio.gather(*queued.values(), return_exceptions=True)
        by_id = {row["id"]: row for row in rows}
        for row_id, answer in zip(queued, answers, strict=True):
            if isinstance(answer, BaseException):
                if refusal_of(answer) is None:
                    raise answer
                # The broker answers for a producer batch (a partition's records sent
                # together), which may hold good rows beside the refused one: sent alone, only
                # the row at fault is refused again.
                if (refusal := await self._refusal_alone(by_id[row_id])) is not None:
                    refused[row_id] = refusal
        return refused

    async def _queue_in_order(
        self, rows: Sequence[asyncpg.Record]
    ) -> tuple[dict[int, asyncio.Future[object]], dict[int, Refusal]]:
        """Hand the rows to the producer in id order (it keeps that order per partition);
        returns the deliveries, and the rows the client refused for good before queuing."""
        queued: dict[int, asyncio.Future[object]] = {}
        refused: dict[int, Refusal] = {}
        for row in rows:
            try:
                queued[row["id"]] = await self._send(row)
            except Exception as error:
                if (refusal := refusal_of(error)) is None:
                    for delivery in queued.values():  # they still go out; nobody awaits them
                        delivery.add_done_callback(_retrieve_outcome)
                    raise
                refused[row["id"]] = refusal
        return queued, refused

    async def _refusal_alone(self, row: asyncpg.Record) -> Refusal | None:
        """Send one row on its own and wait: its refusal for good, or None once published."""
        try:
            await (await self._send(row))
        except Exception as error:
            if (refusal := refusal_of(error)) is None:
                raise
            return refusal
        return None

    async def _send(self, row: asyncpg.Record) -> asyncio.Future[object]:
        """Queue one row with the producer; the future settles with the broker's answer."""
        future: asyncio.Future[object] = await self._producer.send(
            _topic_of(row, self._prefix),
            value=encode_envelope(row["envelope"]),
            key=row["message_key"].encode() or None,
            headers=[("type", row["type"].encode())],
        )
        return future

    async def _mark(
        self, conn: Connection, rows: Sequence[asyncpg.Record], refused: dict[int, Refusal]
    ) -> None:
        # Scrubbed in the statement that marks the row: what the event log must not keep is
        # gone once the broker has it, and not before. Only from an object: removing keys from
        # anything else would fail the statement, and the relay with it, on every round.
        await conn.execute(
            f"UPDATE {self._schema}.outbox SET status = 'published', published_at = now(),"
            " envelope = CASE WHEN scrub_on_publish <> '{}'"
            " AND jsonb_typeof(envelope->'data') = 'object'"
            " THEN jsonb_set(envelope, '{data}', (envelope->'data') - scrub_on_publish)"
            " ELSE envelope END"
            " WHERE id = ANY($1::bigint[])",
            [row["id"] for row in rows if row["id"] not in refused],
        )
        if refused:
            await conn.execute(
                f"UPDATE {self._schema}.outbox AS o SET status = 'failed', failed_at = now(),"
                " failure_reason = f.reason"
                " FROM unnest($1::bigint[], $2::text[]) AS f(id, reason) WHERE o.id = f.id",
                list(refused),
                [str(refusal) for refusal in refused.values()],
            )

    def _report_refused(self, rows: Sequence[asyncpg.Record], refused: dict[int, Refusal]) -> None:
        for row in rows:
            refusal = refused.get(row["id"])
            if refusal is None:
                continue
            metrics.OUTBOX_FAILED.labels(self._schema, refusal.reason).inc()
            # Id, type and reason only: the envelope holds personal data.
            log.error(
                "outbox relay: event %s (%s) refused for good, marked failed for"
                " `dialognet replay --failed`: %s",
                row["event_id"],
                row["type"],
                refusal,
            )


def _retrieve_outcome(delivery: asyncio.Future[object]) -> None:
    # Read, so that asyncio does not log a failed delivery as an exception never retrieved.
    if not delivery.cancelled():
        delivery.exception()


def _topic_of(row: asyncpg.Record, prefix: str) -> str:
    try:
        topic = Topic(row["topic"])
    except ValueError:
        # Refused like a topic the broker does not accept: publishing it can never succeed.
        raise InvalidTopicError(f"{row['topic']!r} is not a topic of the contract") from None
    return topic_name(topic, prefix)


def _log_failed_round(error: Exception) -> None:
    denied = not_allowed_to_write(error)
    if denied is not None:
        # Not a passing fault: nothing goes out until someone grants the ACL (or gives the
        # service its own user), so said as an error, naming what to grant.
        log.error("outbox relay: %s; nothing is published until then, will retry", denied)
    else:
        log.warning("outbox relay: publishing failed, will retry: %s", error)


def _worth_another_round(error: Exception) -> bool:
    """Transient failures (a lost connection: asyncpg's InterfaceError or InternalClientError
    after a terminated backend included), and any broker or database error: the round touches
    no row it cannot touch again."""
    return is_transient(error) or isinstance(error, KafkaError | asyncpg.PostgresError)


def relay_for(
    settings: Settings,
    *,
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    schema: str,
    linger_seconds: float = 0.0,
) -> OutboxRelay:
    return OutboxRelay(
        pool=pool,
        producer=producer,
        schema=schema,
        topic_prefix=settings.topic_prefix,
        batch_size=settings.outbox_batch_size,
        poll_interval_seconds=settings.outbox_poll_interval_seconds,
        linger_seconds=linger_seconds,
    )


async def mark_for_replay(
    conn: Connection,
    schema: str,
    *,
    since: datetime | None = None,
    event_type: str | None = None,
    only_failed: bool = False,
) -> int:
    """Queue published and failed events again (only the failed ones with `only_failed`); the
    relay republishes them in their original order. A failed row loses its failure: if the
    broker refuses it again, the relay marks it again."""
    result: str = await conn.execute(
        f"UPDATE {schema}.outbox SET status = 'not_published', published_at = NULL,"
        " failed_at = NULL, failure_reason = NULL"
        " WHERE status = ANY($3::text[])"
        " AND ($1::timestamptz IS NULL OR occurred_at >= $1)"
        " AND ($2::text IS NULL OR type = $2)",
        since,
        event_type,
        ["failed"] if only_failed else ["published", "failed"],
    )
    return int(result.split()[-1])
