"""The pipeline's own rows: progress per topic (of a generation), the live consumer's event →
projection latency histogram and its dead letters."""

from collections.abc import Iterable, Mapping
from datetime import datetime

from services.runtime.db import Connection
from services.runtime.deadletter import DeadLetter


async def add_progress(
    conn: Connection, generation: int, progress: Mapping[str, tuple[int, datetime]]
) -> None:
    """Per topic: (events applied now, their latest occurred_at)."""
    await conn.executemany(
        "INSERT INTO reporting.topic_progress AS p (generation, topic, events, last_event_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (generation, topic) DO UPDATE SET"
        " events = p.events + EXCLUDED.events,"
        " last_event_at = GREATEST(p.last_event_at, EXCLUDED.last_event_at)",
        [(generation, topic, count, last) for topic, (count, last) in progress.items()],
    )


async def add_latencies(
    conn: Connection, observations: Mapping[tuple[str, float], tuple[int, float]]
) -> None:
    """Per (topic, bucket upper bound): (observations, their sum in seconds)."""
    await conn.executemany(
        "INSERT INTO reporting.projection_latency AS l (topic, bucket, observations, seconds)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (topic, bucket) DO UPDATE SET"
        " observations = l.observations + EXCLUDED.observations,"
        " seconds = l.seconds + EXCLUDED.seconds",
        [(topic, bucket, count, total) for (topic, bucket), (count, total) in observations.items()],
    )


async def record_dead_letters(conn: Connection, letters: Iterable[DeadLetter]) -> None:
    """Once each, by position: a redelivered batch dead-letters its message again."""
    await conn.executemany(
        "INSERT INTO reporting.dead_letters (topic, source_partition, source_offset, reason)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [
            (letter.source_topic, letter.partition, letter.offset, letter.error)
            for letter in letters
        ],
    )
