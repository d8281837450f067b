"""A lean HTTP/1.1 load generator: keep-alive connections, pre-built requests, one process.

A plain httpx pool tops out near 300 requests/s on this machine, far below the service; this
one writes ready-made request bytes over `asyncio.Protocol` connections and parses only the
status line, Content-Length and (when asked) the body. It runs in its own process (`spawn`),
so its Python overhead is not charged to the service's event loop.
"""

import asyncio
import ctypes
import json
import multiprocessing
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import cast

import uvloop

_PR_SET_PDEATHSIG = 1
HEADER_END = b"\r\n\r\n"
CONTENT_LENGTH = b"\r\ncontent-length:"


@dataclass(frozen=True)
class Target:
    """Where to register and as whom; every request gets its own contact e-mail."""

    host: str
    port: int
    forum_ids: tuple[str, ...]  # request n registers for forum n mod len: spread or one hot row
    organization_id: str
    token: str
    email_prefix: str


@dataclass
class LoadResult:
    """What a run saw. Times are `time.monotonic()` seconds, system-wide on Linux."""

    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    latencies_seconds: list[float] = field(default_factory=list)
    # (registration id, request start) for every 201, when bodies were asked for.
    started: list[tuple[str, float]] = field(default_factory=list)
    first_error: str | None = None

    @property
    def created(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return self.total - self.created

    @property
    def per_second(self) -> float:
        return self.created / self.elapsed_seconds


def registration_request(target: Target, number: int) -> bytes:
    body = json.dumps(
        {
            "organization_id": target.organization_id,
            "contact": {"name": "Bench", "email": f"{target.email_prefix}{number}@example.org"},
            "attendees": 1,
            "consent": True,
        },
        separators=(",", ":"),
    ).encode()
    head = (
        f"POST /v1/forums/{target.forum_ids[number % len(target.forum_ids)]}/registrations"
        " HTTP/1.1\r\n"
        f"Host: {target.host}:{target.port}\r\n"
        f"Authorization: Bearer {target.token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc or ConnectionError("server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(HEADER_END)
        if end < 0:
            return
        head = bytes(self._buffer[:end]).lower()
        start = head.find(CONTENT_LENGTH)
        if start < 0:
            length = 0
        else:
            stop = head.find(b"\r\n", start + len(CONTENT_LENGTH))
            length = int(head[start + len(CONTENT_LENGTH) : stop if stop > 0 else None])
        body_start = end + len(HEADER_END)
        if len(self._buffer) < body_start + length:
            return
        status = int(head[9:12])
        body = bytes(self._buffer[body_start : body_start + length])
        del self._buffer[: body_start + length]
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((status, body))

    async def send(self, request: bytes) -> tuple[int, bytes]:
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def _connect(target: Target) -> HttpConnection:
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(HttpConnection, target.host, target.port)
    return connection


def _record(result: LoadResult, status: int, body: bytes, started: float, keep_ids: bool) -> None:
    result.statuses[status] = result.statuses.get(status, 0) + 1
    result.latencies_seconds.append(time.monotonic() - started)
    if status != 201:
        if result.first_error is None:
            result.first_error = f"{status}: {body[:300].decode(errors='replace')}"
    elif keep_ids:
        result.started.append((json.loads(body)["id"], started))


async def closed_loop(target: Target, requests: list[bytes], concurrency: int) -> LoadResult:
    """Send every request over `concurrency` connections, each sending again on its answer."""
    connections = [await _connect(target) for _ in range(concurrency)]
    pending: Iterator[bytes] = iter(requests)
    result = LoadResult()

    async def worker(connection: HttpConnection) -> None:
        for request in pending:  # one shared iterator: no request is sent twice
            started = time.monotonic()
            status, body = await connection.send(request)
            _record(result, status, body, started, keep_ids=False)

    begun = time.monotonic()
    try:
        await asyncio.gather(*(worker(connection) for connection in connections))
    finally:
        for connection in connections:
            connection.close()
    result.elapsed_seconds = time.monotonic() - begun
    return result


async def paced(
    target: Target, requests: list[bytes], rate_per_second: float, connections: int
) -> LoadResult:
    """Start one request every 1/rate seconds (open loop), recording ids and start times."""
    idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await _connect(target))
    result = LoadResult()

    async def one(request: bytes) -> None:
        connection = await idle.get()
        try:
            started = time.monotonic()
            status, body = await connection.send(request)
            _record(result, status, body, started, keep_ids=True)
        finally:
            idle.put_nowait(connection)

    loop = asyncio.get_running_loop()
    begun = loop.time()
    in_flight = []
    for number, request in enumerate(requests):
        delay = begun + number / rate_per_second - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        in_flight.append(asyncio.create_task(one(request)))
    await asyncio.gather(*in_flight)
    result.elapsed_seconds = loop.time() - begun
    while not idle.empty():
        idle.get_nowait().close()
    return result


@dataclass(frozen=True)
class Job:
    """One run for the child process: the numbers of the e-mails to use and how to send."""

    target: Target
    first_number: int
    count: int
    concurrency: int
    rate_per_second: float | None = None  # None: closed loop as fast as answered


def _child(job: Job, results: Connection) -> None:
    if sys.platform == "linux":  # SIGTERM when the bench dies, even by SIGKILL
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    # Built before the clock starts: sending costs one write per request.
    requests = [
        registration_request(job.target, job.first_number + offset) for offset in range(job.count)
    ]
    if job.rate_per_second is None:
        outcome = uvloop.run(closed_loop(job.target, requests, job.concurrency))
    else:
        outcome = uvloop.run(paced(job.target, requests, job.rate_per_second, job.concurrency))
    results.send(outcome)
    results.close()


async def run_in_process(job: Job) -> LoadResult:
    """Run `job` in a fresh process and wait for its result without blocking the event loop."""
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(job, sending), name="bench-loadgen")
    process.start()
    sending.close()  # the child holds the only writer: its death means EOFError here
    try:
        result: LoadResult = await asyncio.to_thread(receiving.recv)
        return result
    except EOFError as error:
        process.join(5)
        raise RuntimeError(f"load generator exited with code {process.exitcode}") from error
    finally:
        if process.is_alive():
            process.terminate()
        process.join(5)
        receiving.close()
