"""`dialognet up` as a whole: infrastructure (embedded or configured), topics, the staff token,
every service as its own supervised process, recovery of a dead embedded broker — until
cancelled. Services join with one `PlatformService` entry each; nothing here knows a service."""

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import httpx
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from schemas.topics import Topic
from services.runtime import data_dir
from services.runtime.embedded import BrokerProcess, Infrastructure, infrastructure
from services.runtime.kafka_topics import TopicCreationRefused, ensure_topics
from services.runtime.outbox import mark_for_replay
from services.runtime.settings import Settings
from services.runtime.supervisor import ChildSpec, Supervisor

log = logging.getLogger("dialognet.up")

READY_WITHIN_SECONDS = 90.0
POLL_SECONDS = 0.2
CONNECT_TIMEOUT_SECONDS = 10.0


class PlatformStartError(RuntimeError):
    """The platform could not start; the message says what to change."""


def always(settings: Settings) -> bool:
    return True


def no_environment(settings: Settings) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class PlatformService:
    """One process `dialognet up` runs and supervises.

    `port_setting` names the Settings field with its HTTP port (readiness is polled at
    `/health/ready` there); `other_port_settings` name further ports it listens on (all are
    checked free before anything starts); `links` are the banner's lines (label, path);
    `outbox_schema` is the schema whose outbox (event log) is published again after the
    embedded broker lost everything (and by `dialognet replay --service NAME`), `outbox_topics`
    the topics that outbox publishes to; `argv` defaults to `dialognet run NAME`. `enabled` says
    whether `up` runs it with these settings (an embedded part is left out when an external one
    is configured); `environment` is what it gives every process `up` starts (e.g. where it
    listens), applied only when it is enabled."""

    name: str
    port_setting: str
    links: tuple[tuple[str, str], ...] = ()
    outbox_schema: str | None = None
    outbox_topics: tuple[Topic, ...] = ()
    argv: tuple[str, ...] | None = None
    other_port_settings: tuple[str, ...] = ()
    enabled: Callable[[Settings], bool] = always
    environment: Callable[[Settings], dict[str, str]] = no_environment

    def port(self, settings: Settings) -> int:
        port: int = getattr(settings, self.port_setting)
        return port

    def url(self, settings: Settings) -> str:
        return f"http://127.0.0.1:{self.port(settings)}"

    def command(self) -> list[str]:
        return list(self.argv or (sys.executable, "-m", "services.cli", "run", self.name))


# Called once every service is ready: (URL of each service by name, the staff token).
AfterReady = Callable[[dict[str, str], str], Awaitable[None]]


async def run_platform(
    settings: Settings, services: Sequence[PlatformService], after_ready: AfterReady | None = None
) -> None:
    """Start everything, then supervise until cancelled; teardown runs in reverse order:
    services, platform.json, broker, PostgreSQL, the data dir lock."""
    services = [service for service in services if service.enabled(settings)]
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PlatformStartError(f"cannot create the data dir (--data-dir): {error}") from error
    async with contextlib.AsyncExitStack() as stack:
        try:
            stack.enter_context(data_dir.locked(settings.data_dir))
        except data_dir.DataDirInUse as error:
            raise PlatformStartError(str(error)) from None
        _check_ports_free(settings, services)
        infra = await stack.enter_async_context(_infrastructure(settings))
        await _create_topics(settings, infra.kafka_bootstrap)
        token = data_dir.admin_token(settings)
        urls = {service.name: service.url(settings) for service in services}
        stack.enter_context(
            data_dir.platform_recorded(
                settings.data_dir,
                database_url=infra.database_url,
                kafka_bootstrap=infra.kafka_bootstrap,
                services=urls,
            )
        )
        supervisor = Supervisor(_child_specs(settings, services, infra, token))
        stack.callback(supervisor.stop_all)
        supervisor.start_all()
        await _wait_ready(supervisor, urls)
        _print_banner(settings, services, infra, token)
        if after_ready is not None:
            await after_ready(urls, token)
        await _supervise(supervisor, settings, services, infra)


@contextlib.asynccontextmanager
async def _infrastructure(settings: Settings) -> AsyncIterator[Infrastructure]:
    configured = settings.database_url.get_secret_value() if settings.database_url else None
    if configured is not None:
        await _check_database(configured)
    async with infrastructure(
        settings.data_dir,
        configured,
        settings.kafka_bootstrap or None,
        broker_port=settings.kafka_port,
        broker_log=settings.data_dir / "logs" / "broker.log",
    ) as infra:
        if configured is not None:
            infra = Infrastructure(
                infra.database_url,
                f"{_without_password(configured)} (DIALOGNET_DATABASE_URL)",
                infra.kafka_bootstrap,
                infra.broker,
            )
        yield infra


async def _check_database(url: str) -> None:
    """Fail at once with the reason, rather than restarting services that cannot connect."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    except (TimeoutError, OSError, asyncpg.PostgresError, ValueError) as error:
        location = f"{_without_password(url)} (DIALOGNET_DATABASE_URL)"
        raise PlatformStartError(f"cannot connect to the database {location}: {error}") from error
    await conn.close()


async def _create_topics(settings: Settings, bootstrap: str) -> None:
    try:
        await ensure_topics(settings.model_copy(update={"kafka_bootstrap": bootstrap}))
    except KafkaError as error:
        source = " (DIALOGNET_KAFKA_BOOTSTRAP)" if settings.kafka_bootstrap else ""
        raise PlatformStartError(f"cannot reach Kafka at {bootstrap}{source}: {error}") from error
    except TopicCreationRefused as error:
        raise PlatformStartError(str(error)) from error


def _check_ports_free(settings: Settings, services: Sequence[PlatformService]) -> None:
    """Fail before starting anything: another broker or service on our ports would answer
    the readiness probes in place of ours."""
    port_settings = [
        setting for s in services for setting in (s.port_setting, *s.other_port_settings)
    ]
    wanted = {f"DIALOGNET_{name.upper()}": getattr(settings, name) for name in port_settings}
    if not settings.kafka_bootstrap:
        wanted["DIALOGNET_KAFKA_PORT"] = settings.kafka_port
    for setting, port in wanted.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise PlatformStartError(f"port {port} is in use; choose another with {setting}")


def _child_specs(
    settings: Settings, services: Sequence[PlatformService], infra: Infrastructure, token: str
) -> list[ChildSpec]:
    # The rest of our environment passes through: other DIALOGNET_* settings, PATH.
    env = {
        **os.environ,
        **{name: value for s in services for name, value in s.environment(settings).items()},
        "DIALOGNET_DATABASE_URL": infra.database_url,
        "DIALOGNET_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "DIALOGNET_ADMIN_TOKEN": token,
        "DIALOGNET_DATA_DIR": str(settings.data_dir),
    }
    return [
        ChildSpec(
            name=service.name,
            argv=service.command(),
            env=env,
            log_path=settings.data_dir / "logs" / f"{service.name}.log",
        )
        for service in services
    ]


async def _wait_ready(supervisor: Supervisor, urls: dict[str, str]) -> None:
    """Poll every service's readiness endpoint until all answer 200 or the deadline passes."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    pending = dict(urls)
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
    settings: Settings, services: Sequence[PlatformService], infra: Infrastructure, token: str
) -> None:
    lines = ["dialognet is running:"]
    for service in services:
        base = service.url(settings)
        lines += [f"  {label:<17} {base}{path}" for label, path in service.links]
    lines += [
        f"  {'Kafka bootstrap':<17} {infra.kafka_bootstrap}",
        f"  {'database':<17} {infra.database_location}",
        f"  {'logs':<17} {settings.data_dir / 'logs'}",
        # Printed here and nowhere else: the operator needs it to use the staff API.
        f"  {'staff token':<17} {token}",
        "Press Ctrl-C to stop.",
        "ready.",
    ]
    print("\n".join(lines), flush=True)


async def _supervise(
    supervisor: Supervisor,
    settings: Settings,
    services: Sequence[PlatformService],
    infra: Infrastructure,
) -> None:
    while True:
        supervisor.check()
        if infra.broker is not None and infra.broker.exit_code() is not None:
            await _recover_broker(infra.broker, supervisor, settings, services, infra)
        await asyncio.sleep(POLL_SECONDS)


async def _recover_broker(
    broker: BrokerProcess,
    supervisor: Supervisor,
    settings: Settings,
    services: Sequence[PlatformService],
    infra: Infrastructure,
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
    await _create_topics(settings, infra.kafka_bootstrap)
    queued = await _queue_outboxes_for_replay(settings, services, infra)
    supervisor.start_all()
    log.info("broker back; %d events queued for publishing again", queued)


async def _queue_outboxes_for_replay(
    settings: Settings, services: Sequence[PlatformService], infra: Infrastructure
) -> int:
    with_database = settings.model_copy(update={"database_url": SecretStr(infra.database_url)})
    queued = 0
    for service in services:
        if service.outbox_schema is None:
            continue
        conn = await asyncpg.connect(with_database.service_database_url(service.name))
        try:
            queued += await mark_for_replay(conn, service.outbox_schema)
        finally:
            await conn.close()
    return queued


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
