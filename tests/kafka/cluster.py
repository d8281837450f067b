"""A three-node Apache Kafka cluster (KRaft, each node broker and controller) on loopback, for the
tests: a SASL_SSL listener with SCRAM-SHA-512 users and ACLs for the services, a PLAINTEXT one for
the tests' own admin use. Nodes can be killed, started again, paused and resumed by id."""

import asyncio
import base64
import contextlib
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from services.runtime.embedded import die_with_parent, free_port, is_alive
from services.runtime.settings import Settings
from tests.kafka.acls import SERVICES, Acl
from tests.kafka.certificates import BrokerTls, make_broker_tls
from tests.kafka_helpers import topic_configs

NODE_COUNT = 3
# Three JVMs and the services share 2 cores and the tests' memory: a small heap is plenty for
# a few thousand messages (the lead's single node ran with 512 MB).
HEAP = "-Xmx384m"
SASL_MECHANISM = "SCRAM-SHA-512"
READY_WITHIN_SECONDS = 90.0
HERE = Path(__file__).parent
LOG_CONFIG = HERE / "log4j2.properties"
ACLS_SOURCE = HERE / "Acls.java"
ADMIN = "admin"


@dataclass(frozen=True)
class ScramUser:
    name: str
    password: str


@dataclass
class Node:
    """One combined broker/controller: its ports, folder and (while running) process."""

    node_id: int
    broker_port: int  # PLAINTEXT, between brokers and for the tests' admin client
    external_port: int  # SASL_SSL, for the services
    controller_port: int
    folder: Path
    process: "subprocess.Popen[bytes] | None" = None
    # Where clients are told to reach the SASL_SSL listener: external_port itself, or the port
    # of a proxy in front of it (tests/faults cut connections there).
    advertised_port: int | None = None

    @property
    def client_port(self) -> int:
        return self.advertised_port or self.external_port

    @property
    def config_file(self) -> Path:
        return self.folder / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class ApacheKafkaCluster:
    """Started by `running_cluster`; every process it starts is gone when that block ends."""

    lib: Path
    folder: Path
    tls: BrokerTls
    users: dict[str, ScramUser]
    nodes: list[Node]
    cluster_id: str = field(default_factory=lambda: _cluster_id())

    @property
    def admin_bootstrap(self) -> str:
        """PLAINTEXT: no login, every right (the listener between the brokers)."""
        return ",".join(f"127.0.0.1:{node.broker_port}" for node in self.nodes)

    @property
    def bootstrap(self) -> str:
        """SASL_SSL: where the services connect."""
        return ",".join(f"127.0.0.1:{node.client_port}" for node in self.nodes)

    def node(self, node_id: int) -> Node:
        return next(node for node in self.nodes if node.node_id == node_id)

    def service_settings(self, base: Settings, service: str, **overrides: Any) -> Settings:
        """`base` pointed at the SASL_SSL listener as `service`'s user, with the production
        settings: replication 3, min.insync.replicas 2, the idempotent producer."""
        user = self.users[service]
        update: dict[str, Any] = {
            "kafka_bootstrap": self.bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": SASL_MECHANISM,
            "kafka_sasl_username": user.name,
            "kafka_sasl_password": SecretStr(user.password),
            "kafka_ssl_cafile": self.tls.ca_file,
            "kafka_replication_factor": NODE_COUNT,
            "kafka_min_insync_replicas": 2,
            "kafka_enable_idempotence": True,
            **overrides,
        }
        # Validated as the environment would be (a child process reads it from there).
        return Settings(**{**base.model_dump(exclude_unset=True), **update})

    def format_storage(self) -> None:
        """Format every node's data folder with the cluster id and the SCRAM users."""
        scram = [
            argument
            for user in self.users.values()
            for argument in (
                "--add-scram",
                f"{SASL_MECHANISM}=[name={user.name},password={user.password}]",
            )
        ]
        formats = [
            self._java(
                "kafka.tools.StorageTool",
                ["format", "-t", self.cluster_id, "-c", str(node.config_file), *scram],
                node.folder / "format.log",
            )
            for node in self.nodes
        ]
        for node, process in zip(self.nodes, formats, strict=True):
            if process.wait(120) != 0:
                raise RuntimeError(f"formatting node {node.node_id} failed: {node.folder}")

    def start(self, node_id: int) -> None:
        """Start (or start again, on its data) one node; returns at once."""
        node = self.node(node_id)
        assert not node.running(), f"node {node_id} is running"
        node.process = self._java(
            "kafka.Kafka", [str(node.config_file)], node.log_file, heap=HEAP, stdout=node.folder
        )

    def kill(self, node_id: int) -> None:
        """SIGKILL: no controlled shutdown, as in a crash."""
        node = self.node(node_id)
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(30)

    def pause(self, node_id: int) -> None:
        """SIGSTOP: the node holds its connections and answers nothing until `resume`."""
        process = self.node(node_id).process
        assert process is not None
        process.send_signal(signal.SIGSTOP)

    def resume(self, node_id: int) -> None:
        process = self.node(node_id).process
        assert process is not None
        process.send_signal(signal.SIGCONT)

    def pids(self) -> list[int]:
        return [node.process.pid for node in self.nodes if node.process is not None]

    def stop(self) -> None:
        """SIGKILL every node (their data is thrown away with the folder) and make sure each is
        gone; AssertionError naming any that is not."""
        started = [psutil.Process(pid) for pid in self.pids() if psutil.pid_exists(pid)]
        for node in self.nodes:
            if node.running():
                assert node.process is not None
                node.process.send_signal(signal.SIGKILL)
            if node.process is not None:
                node.process.wait(30)
        left = [process.pid for process in started if is_alive(process)]
        assert not left, f"Kafka nodes still running after the cluster stopped: {left}"

    async def wait_ready(self, timeout: float = READY_WITHIN_SECONDS) -> None:
        """Until every running node is a broker the cluster lists."""
        wanted = {node.node_id for node in self.nodes if node.running()}
        deadline = time.monotonic() + timeout
        while await self._registered_brokers() != wanted:
            for node in self.nodes:
                if node.process is not None and node.process.poll() is not None:
                    raise RuntimeError(f"node {node.node_id} exited, see {node.log_file}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"brokers {wanted} not all up in {timeout}s, see {self.folder}")
            await asyncio.sleep(0.5)  # polling interval while the JVMs start

    async def _registered_brokers(self) -> set[int]:
        running = [node for node in self.nodes if node.running()]
        if not running:
            return set()
        bootstrap = ",".join(f"127.0.0.1:{node.broker_port}" for node in running)
        # A plain TCP probe first: aiokafka logs an error for every refused connection.
        if not any(_listening(node.broker_port) for node in running):
            return set()
        try:
            async with self.admin(bootstrap) as admin:
                described = await admin.describe_cluster()
        except (KafkaError, OSError, TimeoutError):
            return set()
        return {broker["node_id"] for broker in described["brokers"]}

    @contextlib.asynccontextmanager
    async def admin(self, bootstrap: str | None = None) -> AsyncIterator[AIOKafkaAdminClient]:
        """An admin client on the PLAINTEXT listener (every right)."""
        client = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap or self.admin_bootstrap, request_timeout_ms=5000
        )
        await client.start()
        try:
            yield client
        finally:
            await client.close()

    async def leaders(self, topic: str) -> dict[int, int]:
        """Partition → the node leading it."""
        async with self.admin() as admin:
            (described,) = await admin.describe_topics([topic])
        return {item["partition"]: item["leader"] for item in described["partitions"]}

    async def topic_configs(self, topic: str) -> dict[str, str]:
        """The topic's configuration as the brokers report it (name → value)."""
        async with self.admin() as admin:
            return (await topic_configs(admin, [topic]))[topic]

    def grant(self, acls: Sequence[Acl]) -> None:
        """Create `acls` (one JVM for all of them)."""
        process = self._java(
            str(ACLS_SOURCE),
            [self.admin_bootstrap],
            self.folder / "acls.log",
            stdin=subprocess.PIPE,
        )
        assert process.stdin is not None
        process.stdin.write("".join(f"{acl.line()}\n" for acl in acls).encode())
        process.stdin.close()
        if process.wait(120) != 0:
            raise RuntimeError(f"creating ACLs failed, see {self.folder / 'acls.log'}")

    def _java(
        self,
        main: str,
        arguments: list[str],
        log_file: Path,
        *,
        heap: str = "-Xmx256m",
        stdout: Path | None = None,
        stdin: int = subprocess.DEVNULL,
    ) -> "subprocess.Popen[bytes]":
        output = (stdout or log_file.parent) / f"{log_file.stem}.out"
        command = [
            *("java", heap, "-Xss512k", "-XX:+UseSerialGC", "-Djava.awt.headless=true"),
            f"-Dlog4j2.configurationFile={LOG_CONFIG}",
            f"-Ddialognet.log.file={log_file}",
            *("-cp", f"{self.lib}/*", main, *arguments),
        ]
        with output.open("ab") as console:
            return subprocess.Popen(
                command,
                stdin=stdin,
                stdout=console,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=die_with_parent,
            )


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _cluster_id() -> str:
    """What `StorageTool random-uuid` prints (URL-safe base64 of 16 random bytes), without a JVM."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):  # Kafka avoids these: they read as an option
            return text


def _node_config(node: Node, nodes: list[Node], tls: BrokerTls) -> str:
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    properties = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": (
            f"BROKER://127.0.0.1:{node.broker_port},EXTERNAL://127.0.0.1:{node.external_port},"
            f"CONTROLLER://127.0.0.1:{node.controller_port}"
        ),
        "advertised.listeners": (
            f"BROKER://127.0.0.1:{node.broker_port},EXTERNAL://127.0.0.1:{node.client_port}"
        ),
        "listener.security.protocol.map": "BROKER:PLAINTEXT,EXTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "BROKER",
        "controller.listener.names": "CONTROLLER",
        "listener.name.external.sasl.enabled.mechanisms": SASL_MECHANISM,
        "listener.name.external.scram-sha-512.sasl.jaas.config": jaas,
        "listener.name.external.ssl.keystore.type": "PEM",
        "listener.name.external.ssl.keystore.location": tls.keystore_file,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        # The loopback PLAINTEXT listeners (controllers, brokers among themselves, the tests'
        # admin) log in as nobody: ANONYMOUS must be a super user there. The services reach
        # only the SASL_SSL listener, where each is its own user with its ACLs.
        "super.users": f"User:ANONYMOUS;User:{ADMIN}",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": node.folder / "data",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": NODE_COUNT,
        "offsets.topic.num.partitions": 6,  # 50 by default: slow to create on 2 cores
        "transaction.state.log.replication.factor": NODE_COUNT,
        "transaction.state.log.min.isr": 2,
        "transaction.state.log.num.partitions": 3,
        "share.coordinator.state.topic.replication.factor": NODE_COUNT,
        "share.coordinator.state.topic.min.isr": 2,
        "group.initial.rebalance.delay.ms": 0,
        # The tests' consumers use 2 s session timeouts (6 s is the broker's least by default).
        "group.min.session.timeout.ms": 1000,
        "num.network.threads": 2,
        "num.io.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "background.threads": 2,
    }
    return "".join(f"{name}={value}\n" for name, value in properties.items())


def _nodes(folder: Path, *, proxied: bool) -> list[Node]:
    return [
        Node(
            node_id,
            broker_port=free_port(),
            external_port=free_port(),
            controller_port=free_port(),
            folder=folder / f"node-{node_id}",
            advertised_port=free_port() if proxied else None,
        )
        for node_id in range(1, NODE_COUNT + 1)
    ]


def _users() -> dict[str, ScramUser]:
    return {name: ScramUser(name, secrets.token_hex(16)) for name in (ADMIN, *SERVICES)}


@contextlib.asynccontextmanager
async def running_cluster(
    lib: Path, folder: Path, *, proxied: bool = False
) -> AsyncIterator[ApacheKafkaCluster]:
    """Format and start three nodes in `folder`; kill them all when the block ends. `proxied`:
    each node advertises its SASL_SSL listener on a port of its own (`Node.advertised_port`)
    where the caller runs a proxy to `Node.external_port` — clients learn the brokers'
    addresses from metadata, so only this puts a proxy between them and every broker."""
    tls = make_broker_tls(folder / "tls")
    nodes = _nodes(folder, proxied=proxied)
    for node in nodes:
        node.folder.mkdir(parents=True)
        node.config_file.write_text(_node_config(node, nodes, tls))
    cluster = ApacheKafkaCluster(lib, folder, tls, _users(), nodes)
    try:
        cluster.format_storage()
        for node in nodes:
            cluster.start(node.node_id)
        await cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()
