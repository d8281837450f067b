"""The numbers of /metrics, read from the read models and the broker when scraped, and kept
for `cache_seconds` so that frequent scrapes (several Prometheus servers, the dashboard's
pipeline panel) cost one read."""

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from prometheus_client.core import Metric

from schemas.topics import DEFAULT_PREFIX
from services.reporting import metrics
from services.reporting.store import generations, queries
from services.runtime.group_lag import GroupLag, PartitionLag

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pipeline:
    """What the pipeline panel shows: the same figures as the pipeline metrics."""

    generation: int
    lags: Sequence[PartitionLag] | None  # None: the broker could not be asked
    progress: Sequence[dict[str, Any]]
    latency: Sequence[dict[str, Any]]
    dead_letters: Sequence[dict[str, Any]]


@dataclass
class MetricsReader:
    pool: asyncpg.Pool
    lag: GroupLag | None
    group_id: str
    topics: Sequence[str]  # full names, as the broker knows them
    topic_prefix: str = DEFAULT_PREFIX
    cache_seconds: float = 5.0
    pipeline: Pipeline | None = None
    _read_at: float = -math.inf
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(self) -> None:
        """New numbers unless the last ones are younger than `cache_seconds`; on failure the
        last ones stay, with dialognet_reporting_metrics_scrape_success 0."""
        async with self._lock:
            if time.monotonic() - self._read_at < self.cache_seconds:
                return
            try:
                families = await self._read()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("metrics: the read models could not be read (%s)", error)
                metrics.COLLECTOR.set_snapshot(
                    [*self._last_families, _value(metrics.UP_TO_DATE, 0)]
                )
                return
            self._last_families = families
            metrics.COLLECTOR.set_snapshot([*families, _value(metrics.UP_TO_DATE, 1)])
            self._read_at = time.monotonic()

    _last_families: list[Metric] = field(default_factory=list)

    async def _read(self) -> list[Metric]:
        async with self.pool.acquire() as conn:
            generation = await generations.live(conn)
            families = await _read_models(conn, generation, self.topic_prefix)
            pipeline = Pipeline(
                generation,
                await self._lags(),
                await queries.topic_progress(conn, generation),
                await queries.projection_latency(conn),
                await queries.dead_letters_by_topic(conn),
            )
        self.pipeline = pipeline
        return [*families, *_pipeline_families(pipeline, self.topic_prefix)]

    async def _lags(self) -> list[PartitionLag] | None:
        if self.lag is None:
            return None
        try:
            return await self.lag.of(self.group_id, self.topics)
        except Exception as error:  # the broker's view is optional: the rest is still right
            log.warning("metrics: consumer lag unavailable (%s)", type(error).__name__)
            return None


async def _read_models(conn: Any, generation: int, prefix: str) -> list[Metric]:
    organizations = metrics.ORGANIZATIONS.family()
    for row in await queries.organizations_by_status_and_kind(conn, generation):
        organizations.add_metric([row["status"], row["kind"]], row["organizations"])
    forum_families = [
        spec.family()
        for spec in (
            metrics.FORUM_CAPACITY,
            metrics.FORUM_SEATS_CONFIRMED,
            metrics.FORUM_SEATS_REMAINING,
            metrics.FORUM_WAITLIST,
        )
    ]
    for forum in await queries.scheduled_forums(conn, generation):
        labels = [str(forum["forum_id"]), forum["title"] or ""]
        capacity = forum["capacity"]
        confirmed = forum["seats_confirmed"]
        values = (
            capacity,
            confirmed,
            None if capacity is None else max(capacity - confirmed, 0),
            forum["waitlist_length"],
        )
        for family, value in zip(forum_families, values, strict=True):
            if value is not None:
                family.add_metric(labels, value)
    totals = await queries.totals(conn, generation)
    current = metrics.REGISTRATIONS_CURRENT.family()
    for row in await queries.registrations_by_status(conn, generation):
        current.add_metric([row["status"]], row["registrations"])
    forums_by_status = metrics.FORUMS.family()
    for status, count in (await _forum_statuses(conn, generation)).items():
        forums_by_status.add_metric([status], count)
    emails = metrics.EMAILS.family()
    for row in await queries.emails_by_kind(conn, generation, None, None):
        emails.add_metric([row["kind"], "sent"], row["sent"])
        emails.add_metric([row["kind"], "failed"], row["failed"])
    return [
        organizations,
        *forum_families,
        _value(metrics.REGISTRATIONS, totals["registrations"]),
        _value(metrics.CANCELLATIONS, totals["cancellations"]),
        current,
        forums_by_status,
        _value(metrics.FORUMS_HELD, totals["forums_held"]),
        _value(metrics.ATTENDANCE, totals["attendance"]),
        emails,
        _value(metrics.GENERATION, generation),
    ]


async def _forum_statuses(conn: Any, generation: int) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT COALESCE(status, 'unknown') AS status, count(*) AS forums"
        " FROM reporting.forums WHERE generation = $1 GROUP BY 1",
        generation,
    )
    return {row["status"]: row["forums"] for row in rows}


def _pipeline_families(pipeline: Pipeline, prefix: str) -> list[Metric]:
    lag = metrics.CONSUMER_LAG.family()
    for partition in pipeline.lags or ():
        lag.add_metric([partition.topic, str(partition.partition)], partition.lag)
    events, last_event = metrics.EVENTS.family(), metrics.LAST_EVENT.family()
    for row in pipeline.progress:
        topic = f"{prefix}{row['topic']}"
        events.add_metric([topic], row["events"])
        last_event.add_metric([topic], row["last_event_at"].timestamp())
    dead_letters = metrics.DEAD_LETTERS.family()
    for row in pipeline.dead_letters:
        dead_letters.add_metric([row["topic"]], row["dead_letters"])
    families = [lag, events, last_event, dead_letters]
    return [*families, _latency_family(pipeline.latency, prefix)]


def _latency_family(rows: Sequence[dict[str, Any]], prefix: str) -> Metric:
    family = metrics.EVENT_LATENCY.histogram()
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_topic.setdefault(row["topic"], []).append(row)
    for topic, buckets in by_topic.items():
        cumulative, total, exported = 0, 0.0, []
        for row in sorted(buckets, key=lambda bucket: bucket["bucket"]):
            cumulative += row["observations"]
            total += row["seconds"]
            exported.append((_bound(row["bucket"]), cumulative))
        if exported[-1][0] != "+Inf":
            exported.append(("+Inf", cumulative))
        family.add_metric([f"{prefix}{topic}"], exported, total)
    return family


def _bound(bucket: float) -> str:
    return "+Inf" if math.isinf(bucket) else repr(float(bucket))


def _value(spec: metrics.MetricSpec, value: float) -> Metric:
    family = spec.family()
    family.add_metric([], value)
    return family
