"""Applying events to the read models: one transaction a batch, the inbox claims in it.

`apply_live` is the live consumer's: every event goes into each active generation (the live
one, and one being rebuilt beside it), each with its own inbox, so a redelivered or replayed
event changes nothing and a rebuild misses nothing that arrives while it runs. `apply_to` is a
rebuild's, into its generation only.
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from schemas.catalog import TOPIC_OF_TYPE
from schemas.envelope import Envelope, utc_now
from services.reporting.projection.rows import writes_of
from services.reporting.store import SCHEMA, generations, pipeline, writes
from services.reporting.store.generations import Generation, GenerationState
from services.runtime import inbox
from services.runtime.consumer import Outcome
from services.runtime.db import Connection
from services.runtime.deadletter import DeadLetter
from services.runtime.metrics import LATENCY_BUCKETS

# Upper bounds of the latency histogram's buckets; the last catches the rest.
LATENCY_BOUNDS = (*LATENCY_BUCKETS, float("inf"))


@dataclass(frozen=True)
class Event:
    """A fact to apply, by its id (the inbox key)."""

    event_id: str
    fact: Envelope


class Projector:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def apply_live(
        self, events: Sequence[Event], dead_letters: Sequence[DeadLetter] = ()
    ) -> list[Outcome]:
        """Apply to every active generation; PROCESSED where the live one had not seen the
        event, else DUPLICATE (in order; a second copy in the same batch is a duplicate)."""
        async with self._pool.acquire() as conn, conn.transaction():
            new_to_live: set[str] = set()
            for generation in await generations.active(conn):
                fresh = await apply_to(conn, generation, events)
                if generation.state is GenerationState.LIVE:
                    new_to_live = fresh
            await pipeline.add_latencies(conn, _latencies(events, new_to_live, utc_now()))
            await pipeline.record_dead_letters(conn, dead_letters)
        return _outcomes(events, new_to_live)


async def apply_to(conn: Connection, generation: Generation, events: Sequence[Event]) -> set[str]:
    """Claim the events in the generation's inbox and write what the new ones say; returns the
    ids of the new ones. Runs in the caller's transaction."""
    unique = list({event.event_id: event for event in reversed(events)}.values())
    fresh = await inbox.claim_all(
        conn,
        schema=SCHEMA,
        consumer=generation.inbox_consumer,
        event_ids=[event.event_id for event in unique],
    )
    applied = [event for event in unique if event.event_id in fresh]
    await writes.apply_writes(
        conn, generation.number, (write for event in applied for write in writes_of(event.fact))
    )
    await pipeline.add_progress(conn, generation.number, _progress(applied))
    return fresh


def _progress(applied: Sequence[Event]) -> dict[str, tuple[int, datetime]]:
    progress: dict[str, tuple[int, datetime]] = {}
    for event in applied:
        topic = TOPIC_OF_TYPE[event.fact.type].value
        count, last = progress.get(topic, (0, event.fact.occurred_at))
        progress[topic] = (count + 1, max(last, event.fact.occurred_at))
    return progress


def _latencies(
    events: Sequence[Event], fresh: set[str], now: datetime
) -> dict[tuple[str, float], tuple[int, float]]:
    """Occurred → applied, of the events new to the live generation, per topic and bucket."""
    histogram: dict[tuple[str, float], tuple[int, float]] = {}
    seen: set[str] = set()
    for event in events:
        if event.event_id not in fresh or event.event_id in seen:
            continue
        seen.add(event.event_id)
        seconds = max((now - event.fact.occurred_at).total_seconds(), 0.0)
        bucket = LATENCY_BOUNDS[bisect.bisect_left(LATENCY_BOUNDS, seconds)]
        key = (TOPIC_OF_TYPE[event.fact.type].value, bucket)
        count, total = histogram.get(key, (0, 0.0))
        histogram[key] = (count + 1, total + seconds)
    return histogram


def _outcomes(events: Sequence[Event], fresh: set[str]) -> list[Outcome]:
    outcomes = []
    counted: set[str] = set()
    for event in events:
        first = event.event_id in fresh and event.event_id not in counted
        counted.add(event.event_id)
        outcomes.append(Outcome.PROCESSED if first else Outcome.DUPLICATE)
    return outcomes
