"""kill -9 the registration service while it turns a burst of intake commands into facts.

After a restart every outbox event is on its topic, per-key order holds, a consumer deduping by
event_id sees each event exactly once, and every command took effect exactly once.
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from services.runtime.outbox import relay_lock_key
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN
from tests.integration.delivery import event_ids_by_key, first_deliveries, outbox_ids_by_key
from tests.integration.registration.intake_commands import forum_body, register_command
from tests.kafka_helpers import read_to_end
from tests.polling import until

COMMANDS = 600
FORUMS = 4
FACT_TOPICS = ("organizations", "forums", "registrations")
# Fine polling: the states watched here (a backlog, the relay at work) pass quickly.
CRASH_POLL_SECONDS = 0.005


def _environment(settings: Settings, data_dir: Path) -> dict[str, str]:
    assert settings.database_url is not None
    return {
        **os.environ,
        "DIALOGNET_DATABASE_URL": settings.database_url.get_secret_value(),
        "DIALOGNET_KAFKA_BOOTSTRAP": settings.bootstrap(),
        "DIALOGNET_TOPIC_PREFIX": settings.topic_prefix,
        "DIALOGNET_ADMIN_TOKEN": TEST_ADMIN_TOKEN,
        "DIALOGNET_REGISTRATION_PORT": str(settings.registration_port),
        "DIALOGNET_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "DIALOGNET_DATA_DIR": str(data_dir),
        "DIALOGNET_LOG_LEVEL": "WARNING",
        # Small batches: the relay needs many rounds for the backlog, so the kill lands mid-way.
        "DIALOGNET_OUTBOX_BATCH_SIZE": "20",
    }


@contextlib.contextmanager
def _service_process(env: dict[str, str], log: IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "registration"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    async def answered() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"service exited: {log_path.read_text()[-3000:]}")
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
                return (await client.get("/health/ready")).status_code == 200
        except httpx.TransportError:
            return False

    await until(answered, 30.0, "service ready", interval=CRASH_POLL_SECONDS)


async def _count(conn: asyncpg.Connection, sql: str) -> int:
    count: int = await conn.fetchval(sql)
    return count


UNPUBLISHED = "SELECT count(*) FROM registration.outbox WHERE status = 'not_published'"
PUBLISHED = "SELECT count(*) FROM registration.outbox WHERE status = 'published'"
REGISTERED = "SELECT count(*) FROM registration.registrations"


async def _publish_burst(settings: Settings, forum_ids: list[str]) -> list[dict[str, object]]:
    commands = [
        register_command(
            forum_ids[n % len(forum_ids)], f"person{n}@example.org", interested=n % 2 == 0
        )
        for n in range(COMMANDS)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap(), acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(
                f"{settings.topic_prefix}intake",
                json.dumps(command).encode(),
                key=str(command["data"]["forum_id"]).encode(),  # type: ignore[index]
            )
            for command in commands
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return commands


async def test_kill_9_mid_stream_loses_nothing_and_keeps_order(
    settings: Settings, tmp_path: Path
) -> None:
    started = time.monotonic()
    env = _environment(settings, tmp_path / "data")
    base_url = f"http://127.0.0.1:{settings.registration_port}"
    log_path = tmp_path / "service.log"
    conn = await asyncpg.connect(env["DIALOGNET_DATABASE_URL"])
    try:
        with log_path.open("wb") as log:
            with _service_process(env, log) as first:
                await _ready(base_url, first, log_path)
                async with httpx.AsyncClient(
                    base_url=base_url, headers={"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
                ) as staff:
                    forums = [
                        await staff.post("/v1/forums", json=forum_body(capacity=40))
                        for _ in range(FORUMS)
                    ]
                forum_ids = [forum.json()["id"] for forum in forums]
                # Hold the relay back (its advisory lock) while a backlog of facts builds up …
                await conn.execute("SELECT pg_advisory_lock($1)", relay_lock_key("registration"))
                commands = await _publish_burst(settings, forum_ids)

                async def backlog() -> bool:
                    return await _count(conn, REGISTERED) >= COMMANDS // 4

                await until(
                    backlog, 30.0, "a quarter of the commands handled", interval=CRASH_POLL_SECONDS
                )
                published_before = await _count(conn, PUBLISHED)
                await conn.execute("SELECT pg_advisory_unlock($1)", relay_lock_key("registration"))

                async def publishing() -> bool:
                    return await _count(conn, PUBLISHED) > published_before

                # … then kill the service while the relay works through it.
                await until(
                    publishing,
                    30.0,
                    "the relay publishing the backlog",
                    interval=CRASH_POLL_SECONDS,
                )
                first.kill()  # SIGKILL: no shutdown hook runs
                first.wait()
            unpublished_at_kill = await _count(conn, UNPUBLISHED)
            registered_at_kill = await _count(conn, REGISTERED)

            with _service_process(env, log) as second:
                await _ready(base_url, second, log_path)

                async def all_handled_and_published() -> bool:
                    return await _count(conn, REGISTERED) == COMMANDS and (
                        await _count(conn, UNPUBLISHED) == 0
                    )

                await until(
                    all_handled_and_published,
                    60.0,
                    "every command handled, published",
                    interval=CRASH_POLL_SECONDS,
                )
        outbox = await conn.fetch(
            "SELECT event_id, topic, message_key, type, envelope->>'correlation_id' AS command"
            " FROM registration.outbox ORDER BY id"
        )
    finally:
        await conn.close()

    assert unpublished_at_kill > 0  # the premise: the kill left facts for the relay
    assert registered_at_kill < COMMANDS  # and commands not yet consumed

    for topic in FACT_TOPICS:
        rows = [row for row in outbox if row["topic"] == topic]
        # The relay acknowledged every row before marking it, so the topic is complete now.
        wire = await read_to_end(settings.bootstrap(), f"{settings.topic_prefix}{topic}")
        deduped = first_deliveries(wire)
        assert sorted(m.value["event_id"] for m in deduped) == sorted(
            str(row["event_id"]) for row in rows
        ), f"{topic}: the deduped topic differs from the outbox"
        assert event_ids_by_key(deduped) == outbox_ids_by_key(rows), f"{topic}: order per key"

    made = [row["command"] for row in outbox if row["type"] == "registration.made"]
    assert sorted(made) == sorted(str(command["event_id"]) for command in commands)
    elapsed = time.monotonic() - started
    print(f"crash test: {unpublished_at_kill} unpublished and {registered_at_kill} of {COMMANDS}")
    print(f"commands handled at kill; {len(outbox)} events; {elapsed:.1f}s")
