"""What the benchmarks run against: PostgreSQL, Kafka and the services as processes.

PostgreSQL and Tansu are embedded (started here) unless DIALOGNET_DATABASE_URL /
DIALOGNET_KAFKA_BOOTSTRAP name existing ones. Either way the service gets a scratch database
of its own, dropped at the end, and each service is started with `python -m services.cli run
NAME` exactly as in a container.
"""

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from schemas.topics import DEFAULT_PREFIX
from services.registration.store import SCHEMA
from services.runtime.db import database_url_for
from services.runtime.embedded import (
    die_with_parent,
    free_port,
    infrastructure,
    terminate,
)
from services.runtime.outbox import pending_count

READY_WITHIN_SECONDS = 60.0
# The largest forum the API allows; a run registering more would see waitlisted answers.
FORUM_CAPACITY = 100_000


@dataclass(frozen=True)
class Platform:
    database_url: str  # the scratch database the service and the ceiling use
    kafka_bootstrap: str
    topic_prefix: str
    embedded: bool


@dataclass(frozen=True)
class Service:
    pid: int
    host: str
    port: int
    admin_token: str

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def platform(work_dir: Path) -> AsyncIterator[Platform]:
    """PostgreSQL and Kafka for one run, plus a scratch database dropped afterwards."""
    given_bootstrap = os.environ.get("DIALOGNET_KAFKA_BOOTSTRAP")
    database = f"bench_{secrets.token_hex(4)}"
    async with infrastructure(
        work_dir, os.environ.get("DIALOGNET_DATABASE_URL"), given_bootstrap
    ) as started:
        admin_url, bootstrap = started.database_url, started.kafka_bootstrap
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        try:
            # A shared broker gets topics of our own, so nobody else's messages are counted.
            embedded_broker = given_bootstrap is None
            prefix = DEFAULT_PREFIX if embedded_broker else f"{database}."
            yield Platform(
                database_url_for(admin_url, database), bootstrap, prefix, embedded_broker
            )
        finally:
            admin = await asyncpg.connect(admin_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            finally:
                await admin.close()


@contextlib.asynccontextmanager
async def registration_service(
    infra: Platform, work_dir: Path, extra_env: dict[str, str], code: Path | None = None
) -> AsyncIterator[Service]:
    """The service as its own process; SIGTERM (then SIGKILL) when the block ends. `code`: run
    the service from another checkout (A/B of two versions with the same benchmark)."""
    port = free_port()
    env = {
        "DIALOGNET_REGISTRATION_PORT": str(port),
        "DIALOGNET_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **({"PYTHONPATH": str(code.resolve())} if code else {}),
        **extra_env,
    }
    async with service_process("registration", infra, work_dir, env, port) as service:
        yield service


@contextlib.asynccontextmanager
async def service_process(
    name: str, infra: Platform, work_dir: Path, env: dict[str, str], port: int
) -> AsyncIterator[Service]:
    """`python -m services.cli run NAME` on the platform, ready on `port` (its /health/ready)
    when the block starts, with a throwaway staff token; SIGTERM (then SIGKILL) at its end."""
    token = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "DIALOGNET_DATA_DIR": str(work_dir),  # never a `dialognet up` platform.json nearby
        "DIALOGNET_DATABASE_URL": infra.database_url,
        "DIALOGNET_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "DIALOGNET_TOPIC_PREFIX": infra.topic_prefix,
        "DIALOGNET_ADMIN_TOKEN": token,
        "DIALOGNET_LOG_LEVEL": "WARNING",
        **env,
    }
    log_path = work_dir / f"{name}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", name],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            process_group=0,  # Ctrl-C reaches only us; we stop it in order
            preexec_fn=die_with_parent,
        )
        try:
            service = Service(process.pid, "127.0.0.1", port, token)
            await _wait_ready(name, service, process, log_path)
            yield service
        finally:
            terminate(process, timeout=15)


async def _wait_ready(
    name: str, service: Service, process: "subprocess.Popen[bytes]", log: Path
) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    async with httpx.AsyncClient(base_url=service.base_url, timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited, see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/health/ready")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready, see {log}")
            await asyncio.sleep(0.2)


async def forums_and_organization(service: Service, forums: int) -> tuple[tuple[str, ...], str]:
    """`forums` open forums with room for every request, and an organisation (staff token)."""
    starts = datetime.now(UTC) + timedelta(days=60)
    headers = {"Authorization": f"Bearer {service.admin_token}"}
    async with httpx.AsyncClient(base_url=service.base_url, headers=headers) as staff:
        forum_ids = []
        for number in range(forums):
            forum = await staff.post(
                "/v1/forums",
                json={
                    "format": "conference",
                    "title": f"Benchmark conference {number + 1}",
                    "topics": ["load"],
                    "venue": "Rathaus",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=6)).isoformat(),
                    "registration_deadline": (starts - timedelta(days=1)).isoformat(),
                    "capacity": FORUM_CAPACITY,
                    "audience": "open",
                },
            )
            _created(forum)
            forum_ids.append(forum.json()["id"])
        organization = await staff.post(
            "/v1/organizations",
            json={
                "name": "Benchmark e.V.",
                "kind": "culture",
                "contact": {"name": "Bench", "email": "bench@example.org"},
            },
        )
        _created(organization)
    return tuple(forum_ids), organization.json()["id"]


def _created(response: httpx.Response) -> None:
    if response.status_code != 201:
        raise RuntimeError(
            f"{response.request.url} answered {response.status_code}: {response.text}"
        )


async def pending_outbox(database_url: str) -> int:
    """Events the service has written but its relay has not yet published."""
    conn = await asyncpg.connect(database_url)
    try:
        return await pending_count(conn, SCHEMA)
    finally:
        await conn.close()


async def settle(database_url: str) -> None:
    """Vacuum, analyse and checkpoint after the throughput rounds' bulk of rows (as pgbench
    vacuums before a run), so autovacuum and a checkpoint do not fall into the latency run."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
