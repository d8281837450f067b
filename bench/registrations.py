"""Registration benchmark: HTTP registrations/s beside the raw asyncpg ceiling, and the latency
from request start to the `registration.made` event at a consumer — in one run.

    python bench/registrations.py [--concurrency 32] [--requests 5000] [--rate 100] ...

Starts embedded PostgreSQL and Tansu (or uses DIALOGNET_DATABASE_URL / DIALOGNET_KAFKA_BOOTSTRAP),
runs the registration service as a subprocess, and stops everything it started, also on Ctrl-C.
See bench/README.md for what the numbers mean.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ceiling  # ceiling, infra, loadgen, measure: bench modules beside this script
import infra
import loadgen
from aiokafka import AIOKafkaConsumer, TopicPartition
from measure import machine, percentile, postgres_version, profiling, run_to_exit_code, verdict

from schemas.topics import Topic, topic_name
from services.runtime.settings import Settings

RATIO_GOAL = 0.5
P99_GOAL_MS = 50.0
EVENTS_WITHIN_SECONDS = 30.0
DRAIN_WITHIN_SECONDS = 120.0


@dataclass(frozen=True)
class Options:
    concurrency: int
    requests: int
    warmup: int
    rounds: int
    rate: float
    latency_requests: int
    latency_connections: int
    service_pool: int
    ceiling_pool: int
    forums: tuple[int, ...]
    profile: Path | None
    work_dir: Path | None
    service_code: Path | None


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=32, help="connections / tasks")
    parser.add_argument("--requests", type=int, default=5000, help="measured registrations")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured ones before each")
    parser.add_argument(
        "--rounds", type=int, default=3, help="HTTP and ceiling alternate; the best counts"
    )
    parser.add_argument("--rate", type=float, default=100.0, help="registrations/s, latency run")
    parser.add_argument("--latency-requests", type=int, default=2000)
    parser.add_argument(
        "--latency-connections", type=int, default=8, help="keep-alive connections when paced"
    )
    parser.add_argument(
        "--service-pool", type=int, default=None, help="DIALOGNET_DB_POOL_MAX_SIZE for the service"
    )
    parser.add_argument(
        "--ceiling-pool", type=int, default=None, help="asyncpg pool size (default: the service's)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy record the service during the HTTP run (.svg flame graph, .txt collapsed)",
    )
    parser.add_argument(
        "--forums",
        default="1,30",
        help="shapes to measure, comma-separated: registrations spread over this many forums "
        "(1: every registration locks the same forum row), each beside its own ceiling",
    )
    parser.add_argument(
        "--service-code",
        type=Path,
        default=None,
        help="run the service from this checkout instead (A/B of two versions, same benchmark)",
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp dir")
    args = parser.parse_args(argv)
    service_pool = args.service_pool or Settings().db_pool_max_size
    return Options(
        concurrency=args.concurrency,
        requests=args.requests,
        warmup=args.warmup,
        rounds=args.rounds,
        rate=args.rate,
        latency_requests=args.latency_requests,
        latency_connections=args.latency_connections,
        service_pool=service_pool,
        ceiling_pool=args.ceiling_pool or service_pool,
        forums=tuple(int(count) for count in args.forums.split(",")),
        profile=args.profile,
        work_dir=args.work_dir,
        service_code=args.service_code,
    )


# --- measurements ----------------------------------------------------------------------------


@dataclass
class Throughput:
    """Registrations/s of each round: over HTTP and through asyncpg, measured alternately."""

    warmup: loadgen.LoadResult
    http_rounds: list[loadgen.LoadResult] = field(default_factory=list)
    ceiling_rounds: list[ceiling.CeilingResult] = field(default_factory=list)

    @property
    def best_http(self) -> loadgen.LoadResult:
        return max(self.http_rounds, key=lambda run: run.per_second)

    @property
    def best_ceiling(self) -> ceiling.CeilingResult:
        return max(self.ceiling_rounds, key=lambda run: run.per_second)


async def throughput(
    options: Options,
    target: loadgen.Target,
    database_url: str,
    service_pid: int,
    work_dir: Path,
    first_number: int,
) -> Throughput:
    """Alternate rounds, so a neighbour's burst on a shared machine hits one round, not a side."""

    def job(first: int, count: int) -> loadgen.Job:
        return loadgen.Job(target, first, count, concurrency=options.concurrency)

    forums = len(target.forum_ids)
    async with ceiling.scratch(database_url, pool_size=options.ceiling_pool, forums=forums) as raw:
        warmup = job(first_number, options.warmup)
        measured = Throughput(warmup=await loadgen.run_in_process(warmup))
        await raw.measure(
            range(first_number, first_number + options.warmup), concurrency=options.concurrency
        )
        for number in range(options.rounds):
            first = first_number + options.warmup + number * options.requests
            profile = options.profile if number == 0 and forums == options.forums[0] else None
            async with profiling(service_pid, profile, work_dir):
                measured.http_rounds.append(
                    await loadgen.run_in_process(job(first, options.requests))
                )
            numbers = range(first, first + options.requests)
            measured.ceiling_rounds.append(
                await raw.measure(numbers, concurrency=options.concurrency)
            )
            print(
                f"   round {number + 1}: HTTP {measured.http_rounds[-1].per_second:,.0f}/s, "
                f"ceiling {measured.ceiling_rounds[-1].per_second:,.0f}/s",
                flush=True,
            )
    return measured


class EventClock:
    """A plain aiokafka consumer on every partition of the registrations topic, from its end,
    noting when each `registration.made` arrives, by registration id."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            fetch_max_wait_ms=10,  # Tansu answers a waiting fetch only when this runs out
            enable_auto_commit=False,
        )
        self._topic = topic
        self.arrivals: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer.topics()  # loads the metadata, partitions included
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        if not partitions:
            raise RuntimeError(f"topic {self._topic} has no partitions")
        assigned = [TopicPartition(self._topic, number) for number in sorted(partitions)]
        self._consumer.assign(assigned)
        await self._consumer.seek_to_end(*assigned)
        for partition in assigned:
            await self._consumer.position(partition)
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            arrived = time.monotonic()
            for messages in batches.values():
                for message in messages:
                    assert message.value is not None
                    event = json.loads(message.value)
                    if event["type"] == "registration.made":
                        self.arrivals.setdefault(event["data"]["registration_id"], arrived)

    async def wait_for(self, ids: Sequence[str], within: float) -> None:
        deadline = time.monotonic() + within
        while any(registration_id not in self.arrivals for registration_id in ids):
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


@dataclass(frozen=True)
class LatencyRun:
    sent: loadgen.LoadResult
    latencies_ms: list[float]
    missing: int


async def event_latency(
    options: Options, target: loadgen.Target, platform: infra.Platform, first_number: int
) -> LatencyRun:
    await _outbox_drained(platform.database_url)
    await infra.settle(platform.database_url)
    clock = EventClock(
        platform.kafka_bootstrap, topic_name(Topic.REGISTRATIONS, platform.topic_prefix)
    )
    await clock.start()
    try:
        sent = await loadgen.run_in_process(
            loadgen.Job(
                target,
                first_number=first_number,
                count=options.latency_requests,
                concurrency=options.latency_connections,
                rate_per_second=options.rate,
            )
        )
        ids = [registration_id for registration_id, _ in sent.started]
        await clock.wait_for(ids, EVENTS_WITHIN_SECONDS)
    finally:
        await clock.stop()
    latencies = [
        (clock.arrivals[registration_id] - started) * 1000
        for registration_id, started in sent.started
        if registration_id in clock.arrivals
    ]
    return LatencyRun(sent, latencies, missing=len(sent.started) - len(latencies))


async def _outbox_drained(database_url: str) -> None:
    """The relay has published the throughput run's backlog, so it does not skew latency."""
    deadline = time.monotonic() + DRAIN_WITHIN_SECONDS
    while await infra.pending_outbox(database_url) > 0:
        if time.monotonic() > deadline:
            raise TimeoutError("the outbox relay did not catch up")
        await asyncio.sleep(0.2)


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One shape's results: throughput beside its ceiling, and the latency run."""

    forums: int
    throughput: Throughput
    latency: LatencyRun

    @property
    def ratio(self) -> float:
        return self.throughput.best_http.per_second / self.throughput.best_ceiling.per_second

    @property
    def p99_ms(self) -> float:
        values = self.latency.latencies_ms
        return percentile(values, 0.99) if values else math.nan

    @property
    def failures(self) -> int:
        sent = [self.throughput.warmup, *self.throughput.http_rounds, self.latency.sent]
        return sum(run.failed for run in sent)

    def meets_goals(self) -> bool:
        """The goals (issue 2) are set for one hot forum; a spread shape is reported."""
        complete = self.failures == 0 and self.latency.missing == 0
        if self.forums != 1:
            return complete
        return complete and self.ratio >= RATIO_GOAL and self.p99_ms < P99_GOAL_MS


def shape_rows(options: Options, shape: Shape) -> list[tuple[str, str, str]]:
    measured, latency = shape.throughput, shape.latency
    best, raw = measured.best_http, measured.best_ceiling
    p50 = percentile(latency.latencies_ms, 0.50) if latency.latencies_ms else math.nan
    worst = max(latency.latencies_ms, default=math.nan)
    rounds = ", ".join(
        f"{http.per_second:,.0f}/{raw_round.per_second:,.0f}"
        for http, raw_round in zip(measured.http_rounds, measured.ceiling_rounds, strict=True)
    )
    goal = shape.forums == 1
    return [
        (
            "HTTP registrations/s",
            f"{best.per_second:,.0f}",
            f"best of {options.rounds} rounds of {options.requests}; response p50 "
            f"{percentile(best.latencies_seconds, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(best.latencies_seconds, 0.99) * 1000:.1f} ms",
        ),
        (
            "ceiling (asyncpg)/s",
            f"{raw.per_second:,.0f}",
            f"best of {options.rounds}; lock forum row + 2 inserts, pool {options.ceiling_pool}",
        ),
        (
            "ratio",
            f"{shape.ratio:.0%}",
            (f"goal ≥ {RATIO_GOAL:.0%}: {verdict(shape.ratio >= RATIO_GOAL)}; " if goal else "")
            + f"rounds HTTP/ceiling {rounds}",
        ),
        (
            "request → event p50",
            f"{p50:.1f} ms",
            f"{len(latency.latencies_ms)} events at {options.rate:g}/s",
        ),
        (
            "request → event p99",
            f"{shape.p99_ms:.1f} ms",
            f"goal < {P99_GOAL_MS:g} ms: {verdict(shape.p99_ms < P99_GOAL_MS)}" if goal else "",
        ),
        (
            "request → event max",
            f"{worst:.1f} ms",
            f"{latency.missing} events missing; response p50 "
            f"{percentile(latency.sent.latencies_seconds, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latency.sent.latencies_seconds, 0.99) * 1000:.1f} ms",
        ),
    ]


def report(options: Options, about: dict[str, str], shapes: Sequence[Shape]) -> bool:
    """Print one table per shape; True when every request succeeded and the goals are met."""
    print()
    print(
        f"dialognet registration benchmark, {about['date']}: concurrency {options.concurrency}, "
        f"service pool {options.service_pool}"
    )
    print(
        f"machine: nproc {about['nproc']}, {about['cpu']}, {about['os']}; load before "
        f"{about['load']}; Python {about['python']}; PostgreSQL {about['postgres']}; "
        f"Kafka {about['kafka']}"
    )
    for shape in shapes:
        spread = "one forum (one hot row lock)" if shape.forums == 1 else f"{shape.forums} forums"
        print(f"\n  registrations over {spread}:")
        for name, value, note in shape_rows(options, shape):
            print(f"    {name:<22} {value:>10}   {note}")
        if shape.failures:
            sent = [shape.throughput.warmup, *shape.throughput.http_rounds, shape.latency.sent]
            first = next(run.first_error for run in sent if run.first_error)
            print(f"\n    {shape.failures} requests did not answer 201; first: {first}")
    return all(shape.meets_goals() for shape in shapes)


async def run(options: Options, work_dir: Path) -> bool:
    about = machine()
    shapes = []
    per_shape = options.warmup + options.rounds * options.requests + options.latency_requests
    async with infra.platform(work_dir) as platform:
        about["postgres"] = await postgres_version(platform.database_url)
        about["kafka"] = "Tansu (embedded)" if platform.embedded else platform.kafka_bootstrap
        extra_env = {"DIALOGNET_DB_POOL_MAX_SIZE": str(options.service_pool)}
        async with infra.registration_service(
            platform, work_dir, extra_env, options.service_code
        ) as service:
            print(
                f"service pid {service.pid} on {service.base_url}, "
                f"throwaway staff token {service.admin_token}"
            )
            for index, forums in enumerate(options.forums):
                first = index * per_shape  # every e-mail address is used once in the run
                shapes.append(
                    await _measure_shape(options, platform, service, forums, first, work_dir)
                )
    if options.profile:
        print(f"\nprofile of the first HTTP round: {options.profile}")
    return report(options, about, shapes)


async def _measure_shape(
    options: Options,
    platform: infra.Platform,
    service: infra.Service,
    forums: int,
    first: int,
    work_dir: Path,
) -> Shape:
    forum_ids, organization_id = await infra.forums_and_organization(service, forums)
    target = loadgen.Target(
        host=service.host,
        port=service.port,
        forum_ids=forum_ids,
        organization_id=organization_id,
        token=service.admin_token,
        email_prefix=f"bench{os.getpid()}-",
    )
    print(
        f"{forums} forum(s): {options.rounds} rounds of {options.requests} registrations, over "
        f"HTTP then through asyncpg, after {options.warmup} warm-up …",
        flush=True,
    )
    measured = await throughput(
        options, target, platform.database_url, service.pid, work_dir, first
    )
    print(f"   latency: {options.latency_requests} at {options.rate:g}/s …", flush=True)
    latency = await event_latency(
        options,
        target,
        platform,
        first_number=first + options.warmup + options.rounds * options.requests,
    )
    return Shape(forums, measured, latency)


def main(argv: Sequence[str]) -> int:
    options = parse_options(argv)
    return run_to_exit_code(lambda work_dir: run(options, work_dir), options.work_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
