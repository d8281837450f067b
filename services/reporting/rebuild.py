"""Rebuilding the read models from the topics: into a new generation beside the live one, which
goes on answering, then swapped in once caught up.

1. A new generation is committed as `building`; from then on the live consumer writes every event
   it applies into it too (projector.apply_live).
2. The end offsets of the four topics are taken now. Every event after them is one the live
   consumer will apply into both generations, so the rebuild needs to read only up to them.
3. Every partition is read from its beginning to that end (no consumer group: nothing of the
   live group's position changes) and applied, in batches, with the generation's own inbox.
4. If the new generation holds fewer events than the live one, the broker lost events (the
   embedded broker keeps them in memory only): the rebuild stops without swapping and says to
   run `dialognet replay` first, unless forced.
5. Swap (the live consumer's transactions hold the generations FOR SHARE, so none writes into
   the old one afterwards), then the old generation's rows are dropped.
"""

import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from schemas.envelope import InvalidEnvelope
from services.reporting.consumer import consumed_topics, event_of
from services.reporting.projector import Event, apply_to
from services.reporting.store import SCHEMA, generations
from services.runtime import db, kafka
from services.runtime.consumer import Unprocessable
from services.runtime.settings import Settings

BATCH = 2000
FETCH_TIMEOUT_MS = 200
# Once up to the end offsets, how long one fetch waits for what the live generation holds and
# the new one lacks, and how long reading on goes without anything arriving before it takes the
# topics to have lost it. One empty fetch was not enough: under load a rebuild refused with
# nearly every event missing (tests/integration/reporting/test_rebuild.py, once).
MISSING_WAIT_MS = 1000
MISSING_PATIENCE_SECONDS = 5.0
DEADLOCK_RETRIES = 5
_LOCK = zlib.crc32(b"dialognet-reporting-rebuild")

# (messages read, messages to read)
ProgressCallback = Callable[[int, int], None]


class RebuildRefused(RuntimeError):
    """The rebuild did not swap; the message says why and what to do."""


@dataclass(frozen=True)
class RebuildResult:
    generation: int
    retired: int
    messages: int
    events: int
    skipped: int  # messages that are no fact (dead letters of the live consumer)


async def rebuild(
    settings: Settings,
    on_progress: ProgressCallback | None = None,
    *,
    force: bool = False,
    on_caught_up: Callable[[], Awaitable[None]] | None = None,
) -> RebuildResult:
    """`on_caught_up` runs once every message up to the end offsets is applied, before the swap
    (the live generation still answers then)."""
    pool = await db.create_pool(settings.service_database_url("reporting"), min_size=1, max_size=2)
    try:
        async with pool.acquire() as lock_conn:
            await db.migrate(lock_conn, schema=SCHEMA, package="services.reporting.migrations")
            if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK):
                raise RebuildRefused("another rebuild is running")
            try:
                return await _rebuild(settings, pool, on_progress or _quiet, force, on_caught_up)
            finally:
                await lock_conn.execute("SELECT pg_advisory_unlock($1)", _LOCK)
    finally:
        await pool.close()


async def _rebuild(
    settings: Settings,
    pool: asyncpg.Pool,
    on_progress: ProgressCallback,
    force: bool,
    on_caught_up: Callable[[], Awaitable[None]] | None,
) -> RebuildResult:
    async with pool.acquire() as conn, conn.transaction():
        building = await generations.begin_building(conn)
    reader = kafka.new_consumer(
        settings,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await reader.start()
    try:
        counts = await _read_all(reader, pool, building, settings, on_progress)
    except BaseException:
        async with pool.acquire() as conn, conn.transaction():
            await generations.drop(conn, building.number)
        raise
    finally:
        await reader.stop()
    if on_caught_up is not None:
        await on_caught_up()
    return await _swap(pool, building.number, counts, force)


async def _read_all(
    reader: AIOKafkaConsumer,
    pool: asyncpg.Pool,
    building: generations.Generation,
    settings: Settings,
    on_progress: ProgressCallback,
) -> tuple[int, int]:
    partitions = [
        TopicPartition(topic, partition)
        for topic in consumed_topics(settings.topic_prefix)
        for partition in sorted(
            reader.partitions_for_topic(topic) or await _partitions(reader, topic)
        )
    ]
    reader.assign(partitions)
    starts = await reader.beginning_offsets(partitions)
    ends = await reader.end_offsets(partitions)  # taken after the generation was committed
    total = sum(ends[p] - starts[p] for p in partitions)
    await reader.seek_to_beginning(*partitions)
    read = skipped = 0
    on_progress(read, total)
    pending = {p for p in partitions if ends[p] > starts[p]}
    while pending:
        fetched = await reader.getmany(*pending, timeout_ms=FETCH_TIMEOUT_MS, max_records=BATCH)
        # Records past the end offsets are applied too: reading on is harmless (the inbox),
        # and a record fetched but skipped would be consumed and never read again.
        counted = await _apply_fetched(pool, building, fetched)
        read, skipped = read + counted[0], skipped + counted[1]
        for partition in list(pending):
            if await reader.position(partition) >= ends[partition]:
                pending.discard(partition)
        on_progress(min(read, total), total)
    # Tansu's ListOffsets may answer an end below the last batch's (seen here: 11 where the
    # partition's records went to offset 11): whatever the live generation holds that this
    # one lacks is read on from there; the live consumer writes everything later into both.
    last_arrival = time.monotonic()
    while await _missing(pool, building.number):
        fetched = await reader.getmany(timeout_ms=MISSING_WAIT_MS, max_records=BATCH)
        if fetched:
            last_arrival = time.monotonic()
            counted = await _apply_fetched(pool, building, fetched)
            read, skipped = read + counted[0], skipped + counted[1]
        elif time.monotonic() - last_arrival > MISSING_PATIENCE_SECONDS:
            break  # not on the topics any more: the swap refuses (a broker that lost events)
    return read, skipped


async def _apply_fetched(
    pool: asyncpg.Pool,
    building: generations.Generation,
    fetched: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
) -> tuple[int, int]:
    """Apply the records in one transaction: (read, skipped)."""
    events: list[Event] = []
    read = skipped = 0
    for records in fetched.values():
        for record in records:
            read += 1
            event = _event(record)
            if event is None:
                skipped += 1
            else:
                events.append(event)
    if events:
        await _apply_retrying(pool, building, events)
    return read, skipped


async def _apply_retrying(
    pool: asyncpg.Pool, building: generations.Generation, events: list[Event]
) -> None:
    """The live consumer writes into the same generation meanwhile; the two transactions can
    deadlock on a row both update (seen in the tests), and PostgreSQL then aborts one: again."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            async with pool.acquire() as conn, conn.transaction():
                await apply_to(conn, building, events)
            return
        except asyncpg.DeadlockDetectedError:
            if attempt == DEADLOCK_RETRIES - 1:
                raise


async def _missing(pool: asyncpg.Pool, building: int) -> int:
    async with pool.acquire() as conn:
        return await generations.missing_events(
            conn, building=building, live=await generations.live(conn)
        )


async def _partitions(reader: AIOKafkaConsumer, topic: str) -> set[int]:
    await reader.topics()  # refreshes the metadata
    return set(reader.partitions_for_topic(topic) or ())


def _event(record: ConsumerRecord[bytes, bytes]) -> Event | None:
    """The fact, or None for a message the live consumer dead-lettered."""
    try:
        return event_of(record.value or b"")
    except (InvalidEnvelope, Unprocessable):
        return None


async def _swap(
    pool: asyncpg.Pool, building: int, counts: tuple[int, int], force: bool
) -> RebuildResult:
    read, skipped = counts
    async with pool.acquire() as conn:
        live = await generations.live(conn)
        missing = await generations.missing_events(conn, building=building, live=live)
        if missing and not force:
            async with conn.transaction():
                await generations.drop(conn, building)
            raise RebuildRefused(
                f"the live read models hold {missing} events the topics no longer have: the"
                " broker has lost events (the embedded one keeps them in memory only). Run"
                " `dialognet replay` first, then rebuild again (or --force to swap anyway)."
            )
        built_events = await generations.applied_events(conn, building)
        async with conn.transaction():
            retired = await generations.swap(conn, building)
        async with conn.transaction():
            await generations.drop(conn, retired)
    return RebuildResult(building, retired, read, built_events, skipped)


def _quiet(read: int, total: int) -> None:
    """No progress shown."""
