"""The scenario runner: the whole platform on a three-node Apache Kafka cluster (every service
two replicas, each its own process, supervised), the stream of registrations, and a segment of
it per fault test — faults injected at seeded random moments, then the checks until they pass,
with the time each fault took to recover from."""

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from services.runtime.db import database_url_for
from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN, Infra, test_settings
from tests.faults.checks import Observed, check, on_their_way
from tests.faults.figures import Figures, Recovery
from tests.faults.postgres import RestartablePostgres
from tests.faults.proxy import Target, TcpProxy, proxies
from tests.faults.replicas import REPLICAS, Fleet, running_fleet
from tests.faults.size import SEGMENTS, Size
from tests.faults.stream import Stream
from tests.integration.notification.conftest import platform_settings
from tests.integration.registration import bodies
from tests.integration.reporting.conftest import reporting_settings
from tests.kafka.acls import platform_acls
from tests.kafka.cluster import ApacheKafkaCluster, running_cluster
from tests.mail_sink import RunningMailbox, running_mailbox

SEED = 10  # the number: the same faults at the same moments on every run
CONVERGE_WITHIN_SECONDS = 240.0
CHECK_INTERVAL_SECONDS = 2.0  # a check reads every topic and the sink: not too often
SERVICES = ("registration", "notification", "reporting")
PORT_SETTING = {
    "registration": "registration_port",
    "notification": "notification_port",
    "reporting": "reporting_port",
}
# A consumer's session: long enough for a loaded machine's pauses, short enough that a paused
# broker (tests pause 12 s) outlasts it and the broker's own session (9 s by default).
SESSION_TIMEOUT_MS = 6000


@dataclass
class Injected:
    kind: str
    target: str
    restored_at: float
    ready_seconds: float


@dataclass
class FaultPlatform:
    size: Size
    cluster: ApacheKafkaCluster
    postgres: RestartablePostgres
    broker_proxies: dict[int, TcpProxy]  # node id → the proxy in front of its SASL_SSL port
    database_proxy: TcpProxy
    fleet: Fleet
    stream: Stream
    observed: Observed
    figures: Figures
    mailbox: RunningMailbox
    chance: random.Random = field(default_factory=lambda: random.Random(SEED))
    # Mails that may go out twice with one Message-ID: those on their way (`sending`) when a
    # fault that can cut a send between the relay's answer and the row saying `sent` struck.
    may_repeat: set[str] = field(default_factory=set)
    _measuring: "list[asyncio.Task[Injected]]" = field(default_factory=list)

    @property
    def segment_size(self) -> int:
        return self.size.registrations // SEGMENTS

    def moments(self, count: int) -> list[int]:
        """`count` seeded random points of the next segment (as attempts of the stream)."""
        start = self.stream.attempts
        return sorted(start + self.chance.randrange(self.segment_size) for _ in range(count))

    async def hold(self, seconds: float) -> None:
        """Keep a fault on while the stream sends `seconds` worth of registrations."""
        await self.stream.reached(self.stream.attempts + int(seconds * self.size.rate_per_second))

    async def sends_may_be_cut(self) -> None:
        """Called about a fault that can cut sends (a notification replica killed, the
        database away): the mails on their way now may go out once more. Called before such
        a fault and after it, as long as the cut ones are still `sending` (the sending timeout,
        15 s), so none claimed in between is missed."""
        self.may_repeat |= await on_their_way(self.observed)

    def restored(self, kind: str, target: str) -> None:
        """A fault just ended (or a kill was done): measure, beside the stream and the next
        faults, until every replica is ready."""
        restored_at = time.monotonic()

        async def measured() -> Injected:
            return Injected(kind, target, restored_at, await self.fleet.wait_ready())

        self._measuring.append(asyncio.create_task(measured()))

    async def segment(self, faults: Callable[[], Awaitable[None]]) -> None:
        """Run a segment of the stream with `faults` injected into it (the stream goes on until
        the last is over), then the checks until they pass; each fault's recovery goes into the
        figures."""
        faults_over = asyncio.Event()

        async def injected() -> None:
            try:
                await faults()
            finally:
                faults_over.set()

        await asyncio.gather(self.stream.run(self.segment_size, faults_over), injected())
        measured = await asyncio.gather(*self._measuring)
        self._measuring.clear()
        converged_at = await self.converge()
        for fault in measured:
            self.figures.add(
                Recovery(
                    fault.kind,
                    fault.target,
                    round(fault.ready_seconds, 1),
                    round(converged_at - fault.restored_at, 1),
                )
            )
        self.figures.registrations_accepted = len(self.stream.accepted)
        self.figures.cancellations_accepted = len(self.stream.cancelled)
        print(f"stream: {self.stream.attempts} sent, refused {self.stream.refused}")

    async def converge(self) -> float:
        """When every check passes and every replica is ready; AssertionError with the problems
        still found at the deadline."""
        deadline = time.monotonic() + CONVERGE_WITHIN_SECONDS
        while True:
            outcome = await check(self.observed, self.stream, self.may_repeat)
            if not outcome.problems and await self.fleet.all_ready():
                self.figures.repeated_mails = outcome.repeated_mails
                self.figures.on_their_way_at_faults = len(self.may_repeat)
                return time.monotonic()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not converged in {CONVERGE_WITHIN_SECONDS}s: {outcome.problems}"
                )
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)


def _replica_settings(
    base: Settings, cluster: ApacheKafkaCluster
) -> tuple[dict[str, list[Settings]], dict[str, list[str]]]:
    settings: dict[str, list[Settings]] = {}
    urls: dict[str, list[str]] = {}
    for service in SERVICES:
        own = cluster.service_settings(base, service)
        ports = [free_port() for _ in range(REPLICAS)]
        settings[service] = [own.model_copy(update={PORT_SETTING[service]: port}) for port in ports]
        urls[service] = [f"http://127.0.0.1:{port}" for port in ports]
    return settings, urls


def _base_settings(cluster: ApacheKafkaCluster, database_url: str, data_dir: Path) -> Settings:
    prefix = f"f{secrets.token_hex(4)}."
    infra = Infra(database_url, cluster.bootstrap, embedded_postgres=True)
    settings = test_settings(infra, database_url, prefix, data_dir)
    return reporting_settings(
        platform_settings(
            settings,
            kafka_session_timeout_ms=SESSION_TIMEOUT_MS,
            # A mail left `sending` is taken again after this (120 s by default). At 5 s, as
            # long as the database cut, CI saw 2 mails of one cut repeated: their outcome could
            # not be recorded in time. Longer than any database fault here, such mails are
            # recorded once it is back (the checks still allow those on their way to repeat).
            notification_sending_timeout_seconds=15.0,
        )
    )


async def _new_database(admin_url: str) -> str:
    name = f"faults_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name


async def _forums(url: str, count: int, capacity: int) -> list[str]:
    headers = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as staff:
        created = [
            await staff.post("/v1/forums", json=bodies.forum(capacity=capacity))
            for _ in range(count)
        ]
    assert all(response.status_code == 201 for response in created), created[-1].text
    return [response.json()["id"] for response in created]


@contextlib.asynccontextmanager
async def fault_platform(lib: Path, folder: Path, size: Size) -> AsyncIterator[FaultPlatform]:
    """Everything up and the forums made; every process it started stopped afterwards."""
    postgres = RestartablePostgres(folder / "postgres")
    postgres.start()
    try:
        async with running_cluster(lib, folder / "kafka", proxied=True) as cluster:
            database_port = free_port()
            pairs = {
                database_port: Target(unix_path=str(postgres.socket_file)),
                **{node.client_port: Target(port=node.external_port) for node in cluster.nodes},
            }
            async with proxies(pairs) as started:
                name = await _new_database(postgres.uri)
                # The services reach PostgreSQL through the proxy; the checks directly.
                base = _base_settings(
                    cluster,
                    f"postgresql://postgres@127.0.0.1:{database_port}/{name}",
                    folder / "data",
                )
                cluster.grant(platform_acls(base.topic_prefix, base.kafka_consumer_group_prefix))
                settings, urls = _replica_settings(base, cluster)
                async with (
                    running_mailbox(settings["notification"][0]) as mailbox,
                    running_fleet(settings, urls, folder) as fleet,
                    httpx.AsyncClient(
                        base_url=urls["reporting"][0],
                        headers={"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"},
                        timeout=30,
                    ) as reporting,
                ):
                    per_forum = size.registrations // size.forums
                    forum_ids = await _forums(
                        urls["registration"][0], size.forums, per_forum * 2 // 3
                    )
                    yield FaultPlatform(
                        size,
                        cluster,
                        postgres,
                        {node.node_id: started[node.client_port] for node in cluster.nodes},
                        started[database_port],
                        fleet,
                        Stream(urls["registration"], forum_ids, size.rate_per_second, SEED),
                        Observed(
                            database_url_for(postgres.uri, name),
                            cluster.admin_bootstrap,
                            base.topic_prefix,
                            mailbox.http,
                            reporting,
                        ),
                        Figures(),
                        mailbox,
                    )
    finally:
        postgres.stop()
