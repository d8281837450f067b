"""Events per second through the reporting projections beside a raw aiokafka consume loop of the
same events in the same run; event → projection latency p50/p99 at a steady rate; the service's
memory over every event of a round.

    python bench/projections.py                        # 100,000 events, 3 rounds; 200/s, 30 s
    python bench/projections.py --events 1000000 --rounds 1     # memory over a million events
    python bench/projections.py --profile /tmp/projections.svg  # py-spy over the first round
    python bench/projections.py --compare /tmp/base    # A/B: rounds alternate two checkouts

It starts embedded PostgreSQL and Tansu (or uses DIALOGNET_DATABASE_URL /
DIALOGNET_KAFKA_BOOTSTRAP) and publishes the events once, before any service runs. Each round
then starts `dialognet run reporting` as its own process (as in a container) on a scratch
database and consumer group of its own, so every round projects the same events from the first
one; a raw loop reads them again between the rounds, so a neighbour's burst on a shared machine
spoils one round, not one side. The latency runs last, on topics of its own.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform as host
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import infra  # infra, measure: bench modules beside this script
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from measure import profiling

from schemas.topics import Topic, topic_name
from services.runtime.db import database_url_for
from services.runtime.embedded import free_port
from services.runtime.kafka_topics import ensure_topics
from services.runtime.settings import Settings

FORUMS = 200
ORGANIZATIONS = 5_000
# Published in slices, so a million events never sit in this process at once.
PUBLISH_SLICE = 50_000
# How often a round reads the read models' progress and the service's memory.
SAMPLE_SECONDS = 0.25
MIB = 2**20


def registration_event(forum_id: str, organization_id: str, index: int) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "event_id": str(uuid.uuid4()),
        "type": "registration.made",
        "version": 1,
        "occurred_at": now.isoformat(),
        "producer": "bench",
        "key": forum_id,
        "data": {
            "registration_id": str(uuid.uuid4()),
            "forum_id": forum_id,
            "organization_id": organization_id,
            "organization_name": f"Org {index % 500}",
            "status": "confirmed",
            "attendees": 1 + index % 2,
            "wants_to_present": index % 4 == 0,
            "forum": {
                "title": f"Forum {forum_id[:8]}",
                "format": "forum",
                "venue": "Rathaus",
                "starts_at": (now + timedelta(days=30)).isoformat(),
                "ends_at": (now + timedelta(days=30, hours=3)).isoformat(),
            },
            "registered_at": now.isoformat(),
        },
    }


def events(count: int) -> Iterator[list[tuple[str, bytes]]]:
    """`count` registrations over FORUMS forums and ORGANIZATIONS organisations, in slices."""
    forums = [str(uuid.uuid4()) for _ in range(FORUMS)]
    organizations = [str(uuid.uuid4()) for _ in range(ORGANIZATIONS)]
    for first in range(0, count, PUBLISH_SLICE):
        batch = []
        for index in range(first, min(first + PUBLISH_SLICE, count)):
            forum = forums[index % FORUMS]
            body = registration_event(forum, organizations[index % ORGANIZATIONS], index)
            batch.append((forum, json.dumps(body).encode()))
        yield batch


async def publish(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        for batch in events(count):
            pending = [await producer.send(topic, value, key=key.encode()) for key, value in batch]
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def raw_consume(bootstrap: str, topic: str, count: int) -> float:
    """Events/s of a plain aiokafka loop reading and decoding the same events."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        started, seen = time.perf_counter(), 0
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for record in records:
                    json.loads(record.value or b"")
                seen += len(records)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


@dataclass
class Round:
    """One service's run through every event: the rate, and its memory as it went."""

    code: str
    started_at: str
    load_before: tuple[float, float, float]
    per_second: float = 0.0
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # (seconds since the first applied event, events applied, service RSS in bytes)
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    rss_ready: int = 0
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    # Samples of /metrics after the first batch and after the last.
    series: tuple[int, int] = (0, 0)


class CpuClock:
    """CPU seconds of the service, PostgreSQL (every server process) and the broker while a
    round runs: which of them bounds it. PostgreSQL and the broker only when embedded here."""

    def __init__(self, service: psutil.Process, work_dir: Path, kafka_bootstrap: str) -> None:
        self._parts = {"service": [service], "postgres": [], "broker": []}
        postmaster = work_dir / "postgres" / "postmaster.pid"
        if postmaster.exists():
            self._parts["postgres"] = [psutil.Process(int(postmaster.read_text().split()[0]))]
        port = kafka_bootstrap.rsplit(":", 1)[-1]
        for process in psutil.process_iter(["cmdline"]):
            if f"tcp://127.0.0.1:{port}" in " ".join(process.info["cmdline"] or ()):
                self._parts["broker"] = [process]
        self._start = self._read()

    def _read(self) -> dict[int, float]:
        seconds = {}
        for parents in self._parts.values():
            for parent in parents:
                with contextlib.suppress(psutil.Error):
                    for process in (parent, *parent.children(recursive=True)):
                        times = process.cpu_times()
                        seconds[process.pid] = times.user + times.system
        return seconds

    def used(self) -> dict[str, float]:
        """CPU seconds of each part since the clock was made (a process gone meanwhile lost)."""
        now = self._read()
        used = {}
        for part, parents in self._parts.items():
            pids = set()
            for parent in parents:
                with contextlib.suppress(psutil.Error):
                    pids |= {p.pid for p in (parent, *parent.children(recursive=True))}
            used[part] = sum(now.get(pid, 0.0) - self._start.get(pid, 0.0) for pid in pids)
        return used


@dataclass(frozen=True)
class Target:
    """Where a round's service reads from and writes to."""

    kafka_bootstrap: str
    database_url: str
    topic_prefix: str


@contextlib.asynccontextmanager
async def scratch_database(database_url: str, name: str) -> AsyncIterator[str]:
    """Another database beside the platform's scratch one, dropped afterwards."""
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield database_url_for(database_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def reporting(
    target: Target, work_dir: Path, group: str, code: Path | None
) -> AsyncIterator[infra.Service]:
    port = free_port()
    env = {
        "DIALOGNET_DATABASE_URL": target.database_url,
        "DIALOGNET_TOPIC_PREFIX": target.topic_prefix,
        # A group of its own: every round reads the topics from their beginning.
        "DIALOGNET_KAFKA_CONSUMER_GROUP_PREFIX": f"{group}-",
        "DIALOGNET_REPORTING_PORT": str(port),
        "DIALOGNET_REPORTING_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    async with infra.service_process(
        "reporting", port, target.kafka_bootstrap, work_dir, env, code
    ) as service:
        yield service


async def applied(conn: asyncpg.Connection) -> int:
    count = await conn.fetchval(
        "SELECT COALESCE(sum(events), 0) FROM reporting.topic_progress p"
        " JOIN reporting.generations g USING (generation) WHERE g.state = 'live'"
    )
    return int(count)


async def project_round(
    measured: Round,
    target: Target,
    work_dir: Path,
    count: int,
    code: Path | None,
    profile: Path | None,
) -> None:
    """The time from the first event committed in the read models to the last."""
    async with reporting(target, work_dir, f"round{secrets.token_hex(3)}", code) as service:
        process = psutil.Process(service.pid)
        measured.rss_ready = process.memory_info().rss
        conn = await asyncpg.connect(target.database_url)
        try:
            async with profiling(service.pid, profile, work_dir):
                while await applied(conn) == 0:
                    await asyncio.sleep(0.01)  # polling for the first committed batch
                series_first = await metric_series(service)
                first = await applied(conn)
                started = time.perf_counter()
                clock = CpuClock(process, work_dir, target.kafka_bootstrap)
                done = first
                while done < count:
                    await asyncio.sleep(SAMPLE_SECONDS)  # polling the read models' progress
                    done = await applied(conn)
                    elapsed = time.perf_counter() - started
                    measured.samples.append((elapsed, done, process.memory_info().rss))
                measured.seconds = time.perf_counter() - started
                measured.per_second = (count - first) / measured.seconds
                measured.cpu = clock.used()
            measured.series = (series_first, await metric_series(service))
        finally:
            await conn.close()


async def metric_series(service: infra.Service) -> int:
    """How many samples /metrics shows: a label that grows with the events would show here."""
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
        text = (await client.get("/metrics")).text
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


async def latency(
    target: Target, work_dir: Path, args: argparse.Namespace, code: Path | None
) -> str:
    """Events at `rate`/s into a caught-up service; each timed from its send to its row in the
    read models (polled every millisecond)."""
    topic = topic_name(Topic.REGISTRATIONS, target.topic_prefix)
    async with reporting(target, work_dir, f"latency{secrets.token_hex(3)}", code):
        conn = await asyncpg.connect(target.database_url)
        producer = AIOKafkaProducer(
            bootstrap_servers=target.kafka_bootstrap, acks="all", linger_ms=0
        )
        await producer.start()
        try:
            return await _paced(conn, producer, topic, args.rate, int(args.rate * args.seconds))
        finally:
            await producer.stop()
            await conn.close()


async def _paced(
    conn: asyncpg.Connection, producer: AIOKafkaProducer, topic: str, rate: float, total: int
) -> str:
    forum, organization = str(uuid.uuid4()), str(uuid.uuid4())
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}

    async def poll() -> None:
        while len(seen) < total:
            rows = await conn.fetch(
                "SELECT registration_id::text AS id FROM reporting.registrations r"
                " JOIN reporting.generations g USING (generation)"
                " WHERE g.state = 'live' AND r.forum_id = $1",
                uuid.UUID(forum),
            )
            now = time.monotonic()
            for row in rows:
                seen.setdefault(row["id"], now)
            await asyncio.sleep(0.001)  # polling the read model for the new rows

    poller = asyncio.create_task(poll())
    started = time.monotonic()
    for index in range(total):
        body = registration_event(forum, organization, index)
        registration_id = body["data"]["registration_id"]  # type: ignore[index]
        await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
        sent[registration_id] = time.monotonic()
        await producer.send(topic, json.dumps(body).encode(), key=forum.encode())
    await asyncio.wait_for(poller, 60)
    delays = sorted((seen[k] - sent[k]) * 1000 for k in sent)
    p50 = statistics.median(delays)
    p99 = delays[int(len(delays) * 0.99) - 1]
    return (
        f"latency at {rate:.0f}/s over {total} events: p50 {p50:.1f} ms, p99 {p99:.1f} ms,"
        f" max {delays[-1]:.1f} ms (includes the 1 ms polling of this script)"
    )


def memory_table(measured: Round, count: int) -> list[str]:
    """RSS at every tenth of the events (and when ready, before the first)."""
    lines = [f"   RSS when ready: {measured.rss_ready / MIB:.0f} MiB"]
    marks = iter(range(count // 10, count + 1, count // 10))
    mark = next(marks, None)
    for elapsed, done, rss in measured.samples:
        while mark is not None and done >= mark:
            lines.append(f"   {done:>9,} events at {elapsed:6.1f} s: RSS {rss / MIB:.0f} MiB")
            mark = next(marks, None)
    return lines


def load() -> tuple[float, float, float]:
    return os.getloadavg()


async def run(args: argparse.Namespace, work_dir: Path) -> None:
    codes: list[Path | None] = [None, args.compare] if args.compare else [None]
    cores = os.cpu_count()
    print(f"machine: {host.machine()}, {cores} cores, Python {host.python_version()}")
    async with infra.platform(work_dir) as platform:
        if args.rounds > 0:
            await throughput(args, platform, codes, work_dir)
        if args.seconds > 0:
            await latencies(args, platform, codes, work_dir)


async def throughput(
    args: argparse.Namespace, platform: infra.Platform, codes: list[Path | None], work_dir: Path
) -> None:
    """The events published once, then rounds of each version, raw loops between them."""
    source = platform.topic_prefix
    await ensure_topics(Settings(kafka_bootstrap=platform.kafka_bootstrap, topic_prefix=source))
    topic = topic_name(Topic.REGISTRATIONS, source)
    print(f"publishing {args.events:,} registration.made events …", flush=True)
    await publish(platform.kafka_bootstrap, topic, args.events)
    rounds: list[Round] = []
    raw_rates: list[float] = []
    for number in range(args.rounds):
        for code in codes:
            measured = Round(_name(code), datetime.now(UTC).strftime("%H:%M:%S"), load())
            database = f"round_{secrets.token_hex(4)}"
            async with scratch_database(platform.database_url, database) as database_url:
                target = Target(platform.kafka_bootstrap, database_url, source)
                profile = args.profile if number == 0 and code is None else None
                await project_round(measured, target, work_dir, args.events, code, profile)
            measured.load_after = load()
            rounds.append(measured)
            print(
                f"round {number + 1} ({measured.code}, {measured.started_at} UTC, load"
                f" {measured.load_before[0]:.2f} → {measured.load_after[0]:.2f}):"
                f" {measured.per_second:,.0f} events/s",
                flush=True,
            )
            cpu = ", ".join(f"{part} {used:.1f} s" for part, used in measured.cpu.items())
            print(f"   CPU over {measured.seconds:.1f} s: {cpu}")
            print("\n".join(memory_table(measured, args.events)), flush=True)
            print(f"   /metrics samples: {measured.series[0]} after the first batch,"
                  f" {measured.series[1]} after the last")  # fmt: skip
            raw_rates.append(await raw_consume(platform.kafka_bootstrap, topic, args.events))
            print(f"   raw aiokafka loop: {raw_rates[-1]:,.0f} events/s", flush=True)
    for code in codes:
        best = max(r.per_second for r in rounds if r.code == _name(code))
        print(
            f"{_name(code)}: best {best:,.0f} events/s, {best / max(raw_rates):.0%} of the best"
            f" raw loop ({max(raw_rates):,.0f}/s)"
        )


async def latencies(
    args: argparse.Namespace, platform: infra.Platform, codes: list[Path | None], work_dir: Path
) -> None:
    """Each version's latency at `rate`/s, on topics and a database of its own."""
    for code in codes:
        # The rounds' rows are written and dropped, not yet checkpointed: a checkpoint now, not
        # during the run (as bench/registrations.py settles before its latency run).
        await infra.settle(platform.database_url)
        prefix = f"latency_{secrets.token_hex(4)}."
        await ensure_topics(Settings(kafka_bootstrap=platform.kafka_bootstrap, topic_prefix=prefix))
        async with scratch_database(platform.database_url, prefix[:-1]) as database_url:
            target = Target(platform.kafka_bootstrap, database_url, prefix)
            before = load()
            line = await latency(target, work_dir, args, code)
            print(f"{_name(code)}: {line}; load {before[0]:.2f} → {load()[0]:.2f}", flush=True)


def _name(code: Path | None) -> str:
    return "current" if code is None else str(code)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="projection rounds of each version (0: none)"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="events/s of the latency run")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="length of the latency run (0: none)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy record the service in the first round (.svg flame graph, .txt collapsed)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="a checkout whose service alternates with this one's, round by round (A/B)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reporting-") as work:
        asyncio.run(run(args, Path(work)))


if __name__ == "__main__":
    main()
