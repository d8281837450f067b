"""Every service as two replicas, each its own `dialognet run` process, and a supervisor that
starts a replica again when it dies — what an orchestrator (Kubernetes, systemd) does; the
services themselves are never restarted by hand."""

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.runtime.settings import Settings
from tests.service_process import start_service

REPLICAS = 2
SUPERVISE_INTERVAL_SECONDS = 0.2  # how soon a dead replica is noticed, as a kubelet's probe
READY_WITHIN_SECONDS = 120.0
STOP_WITHIN_SECONDS = 30.0


@dataclass
class Replica:
    service: str
    index: int
    settings: Settings
    base_url: str
    log_path: Path
    process: "subprocess.Popen[bytes] | None" = None
    restarts: int = 0
    ready: bool = False

    @property
    def name(self) -> str:
        return f"{self.service} replica {self.index}"

    def start(self) -> None:
        self.ready = False
        self.process = start_service(self.settings, self.service, self.log_path)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def exited(self) -> bool:
        return self.process is None or self.process.poll() is not None

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def stop(self, deadline: float) -> None:
        """Wait for the exit `terminate` asked for until `deadline`, then SIGKILL."""
        if self.process is None:
            return
        try:
            self.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Fleet:
    """The replicas of every service and the supervisor watching them."""

    replicas: list[Replica]
    client: httpx.AsyncClient
    _supervisor: "asyncio.Task[None] | None" = None
    _restarting: set[str] = field(default_factory=set)

    def of(self, service: str) -> list[Replica]:
        return [replica for replica in self.replicas if replica.service == service]

    async def all_ready(self) -> bool:
        """Every replica answers ready now (and the supervisor is not restarting one)."""
        answers = await asyncio.gather(*(self._answers_ready(r) for r in self.replicas))
        return all(answers)

    async def wait_ready(self, timeout: float = READY_WITHIN_SECONDS) -> float:
        """Seconds until every replica is ready; AssertionError naming those that are not."""
        started = time.monotonic()
        while not await self.all_ready():
            if time.monotonic() - started > timeout:
                late = [r.name for r in self.replicas if not r.ready]
                raise AssertionError(f"not ready within {timeout}s: {late}")
            await asyncio.sleep(SUPERVISE_INTERVAL_SECONDS)
        return time.monotonic() - started

    async def _answers_ready(self, replica: Replica) -> bool:
        if replica.exited():
            replica.ready = False
            return False
        try:
            response = await self.client.get(f"{replica.base_url}/health/ready", timeout=2.0)
        except httpx.HTTPError:
            replica.ready = False
            return False
        replica.ready = response.status_code == 200
        return replica.ready

    async def _supervise(self) -> None:
        while True:
            for replica in self.replicas:
                if replica.exited():
                    replica.restarts += 1
                    replica.start()
            await asyncio.sleep(SUPERVISE_INTERVAL_SECONDS)


@contextlib.asynccontextmanager
async def running_fleet(
    settings: dict[str, list[Settings]], urls: dict[str, list[str]], folder: Path
) -> AsyncIterator[Fleet]:
    """Start each service's replicas (registration first: it creates the topics), supervise
    them until the block ends, then stop them all."""
    replicas = [
        Replica(
            service,
            index,
            replica_settings,
            urls[service][index],
            folder / f"{service}-{index}.log",
        )
        for service, per_replica in settings.items()
        for index, replica_settings in enumerate(per_replica)
    ]
    async with httpx.AsyncClient() as client:
        fleet = Fleet(replicas, client)
        try:
            for service in settings:
                for replica in fleet.of(service):
                    replica.start()
                await _first_ready(fleet, service)
            fleet._supervisor = asyncio.create_task(fleet._supervise())
            yield fleet
        finally:
            if fleet._supervisor is not None:
                fleet._supervisor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fleet._supervisor
            # All at once, and waited for in threads: a replica shuts down through the proxies
            # this event loop serves (leaving its groups, closing its pool), so a blocking wait
            # here held every replica until its SIGKILL, 30 s each.
            for replica in replicas:
                replica.terminate()
            deadline = time.monotonic() + STOP_WITHIN_SECONDS
            await asyncio.gather(*(asyncio.to_thread(r.stop, deadline) for r in replicas))


async def _first_ready(fleet: Fleet, service: str) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    for replica in fleet.of(service):
        while not await fleet._answers_ready(replica):
            if replica.exited():
                raise AssertionError(
                    f"{replica.name} exited: {replica.log_path.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{replica.name} not ready, see {replica.log_path}")
            await asyncio.sleep(SUPERVISE_INTERVAL_SECONDS)
