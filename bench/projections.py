"""Events per second through the reporting projections beside a raw aiokafka consume loop of the
same events in the same run; event → projection latency p50/p99 at a steady rate; memory of the
service process over many events.

    python bench/projections.py                      # 100,000 events, latency at 200/s for 30 s
    python bench/projections.py --events 1000000     # memory flat over a million events

It starts embedded PostgreSQL and Tansu (or uses DIALOGNET_DATABASE_URL /
DIALOGNET_KAFKA_BOOTSTRAP), a scratch database, and `dialognet run reporting` as its own process.
"""

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.topics import Topic, topic_name
from services.runtime.db import database_url_for
from services.runtime.embedded import free_port, infrastructure

TOKEN = secrets.token_urlsafe(16)


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


def events(count: int) -> list[tuple[str, bytes]]:
    forums = [str(uuid.uuid4()) for _ in range(200)]
    organizations = [str(uuid.uuid4()) for _ in range(5000)]
    made = []
    for index in range(count):
        forum = forums[index % len(forums)]
        body = registration_event(forum, organizations[index % len(organizations)], index)
        made.append((forum, json.dumps(body).encode()))
    return made


async def produce(bootstrap: str, topic: str, batch: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
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
        while not consumer.partitions_for_topic(topic):
            await asyncio.sleep(0.05)
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        started, seen = time.perf_counter(), 0
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for record in records:
                    json.loads(record.value)
                seen += len(records)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def applied(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT COALESCE(sum(events), 0) FROM reporting.topic_progress"))


async def wait_applied(
    conn: asyncpg.Connection, count: int, process: psutil.Process, rss: list[int]
) -> float:
    started = time.perf_counter()
    while await applied(conn) < count:
        rss.append(process.memory_info().rss)
        await asyncio.sleep(0.2)  # polling the read models' progress
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-reporting-") as work:
        async with infrastructure(
            Path(work),
            os.environ.get("DIALOGNET_DATABASE_URL"),
            os.environ.get("DIALOGNET_KAFKA_BOOTSTRAP"),
        ) as infra:
            name = f"bench_{secrets.token_hex(4)}"
            admin = await asyncpg.connect(infra.database_url)
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            database_url = database_url_for(infra.database_url, name)
            prefix = f"{name}."
            topic = topic_name(Topic.REGISTRATIONS, prefix)
            port = free_port()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("DIALOGNET_")},
                "DIALOGNET_DATABASE_URL": database_url,
                "DIALOGNET_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
                "DIALOGNET_TOPIC_PREFIX": prefix,
                "DIALOGNET_REPORTING_PORT": str(port),
                "DIALOGNET_ADMIN_TOKEN": TOKEN,
                "DIALOGNET_LOG_LEVEL": "WARNING",
            }
            service = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "run", "reporting"], env=env
            )
            try:
                await ready(port)
                process = psutil.Process(service.pid)
                conn = await asyncpg.connect(database_url)
                print(f"load before: {os.getloadavg()}")
                batch = events(args.events)
                await produce(infra.kafka_bootstrap, topic, batch)
                rss: list[int] = []
                seconds = await wait_applied(conn, args.events, process, rss)
                raw = await raw_consume(infra.kafka_bootstrap, topic, args.events)
                rate = args.events / seconds
                print(
                    f"projections: {args.events} events in {seconds:.1f} s = {rate:,.0f} events/s"
                )
                print(f"raw aiokafka loop: {raw:,.0f} events/s; ratio {rate / raw:.0%}")
                print(
                    f"service RSS MiB: first {rss[0] / 2**20:.0f}, max {max(rss) / 2**20:.0f}, "
                    f"last {rss[-1] / 2**20:.0f} over {len(rss)} samples"
                )
                await latency(infra.kafka_bootstrap, topic, conn, args)
                print(f"load after: {os.getloadavg()}")
                await conn.close()
            finally:
                service.terminate()
                service.wait(30)


async def latency(
    bootstrap: str, topic: str, conn: asyncpg.Connection, args: argparse.Namespace
) -> None:
    """Events at `rate`/s; latency = commit in the read models - occurred_at, from the service's
    own histogram rows being too coarse, measured here by polling each registration's row."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    forum, organization = str(uuid.uuid4()), str(uuid.uuid4())
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    total = int(args.rate * args.seconds)

    async def poll() -> None:
        while len(seen) < total:
            rows = await conn.fetch(
                "SELECT registration_id::text AS id FROM reporting.registrations"
                " WHERE forum_id = $1",
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
        await asyncio.sleep(max(0.0, started + index / args.rate - time.monotonic()))
        sent[registration_id] = time.monotonic()
        await producer.send(topic, json.dumps(body).encode(), key=forum.encode())
    await asyncio.wait_for(poller, 60)
    await producer.stop()
    delays = sorted((seen[k] - sent[k]) * 1000 for k in sent)
    p50 = statistics.median(delays)
    p99 = delays[int(len(delays) * 0.99) - 1]
    print(
        f"latency at {args.rate}/s over {total} events: p50 {p50:.1f} ms, p99 {p99:.1f} ms,"
        f" max {delays[-1]:.1f} ms (includes the 1 ms polling of this script)"
    )


async def ready(port: int) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(600):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)  # polling while the service starts
    raise RuntimeError("reporting did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
