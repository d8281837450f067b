"""A TCP proxy on loopback for the fault tests: forwards each connection to a TCP port or a unix
socket, and can cut every connection (and refuse new ones) until it is restored."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass(frozen=True)
class Target:
    """Where the proxy forwards to: a TCP port on loopback, or a unix socket's path."""

    port: int | None = None
    unix_path: str | None = None

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.unix_path is not None:
            return await asyncio.open_unix_connection(self.unix_path)
        assert self.port is not None
        return await asyncio.open_connection("127.0.0.1", self.port)


@dataclass
class TcpProxy:
    """Listens on `port`; `cut()` aborts every connection through it and closes the port (a
    client sees its connections reset, then refused), `restore()` listens again."""

    port: int
    target: Target
    connections: int = 0  # accepted since the start, to show traffic went through
    _server: asyncio.Server | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._forward, "127.0.0.1", self.port, reuse_address=True
        )

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()  # a reset, not an orderly close: as a network cut
        self._open.clear()

    async def restore(self) -> None:
        if self._server is None:
            await self.start()

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        try:
            target_in, target_out = await self.target.connect()
        except OSError:
            client_out.transport.abort()
            return
        pair = {client_out, target_out}
        self._open |= pair
        try:
            await asyncio.gather(_pipe(client_in, target_out), _pipe(target_in, client_out))
        finally:
            self._open -= pair
            for writer in pair:
                writer.transport.abort()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until either side ends; the other direction then ends through the abort."""
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await source.read(CHUNK):
            sink.write(chunk)
            await sink.drain()
    sink.transport.abort()


@contextlib.asynccontextmanager
async def proxies(pairs: dict[int, Target]) -> AsyncIterator[dict[int, TcpProxy]]:
    """A started proxy for each listening port → target; all closed when the block ends."""
    started = {port: TcpProxy(port, target) for port, target in pairs.items()}
    try:
        for proxy in started.values():
            await proxy.start()
        yield started
    finally:
        for proxy in started.values():
            await proxy.cut()
