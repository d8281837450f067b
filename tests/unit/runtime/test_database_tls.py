"""TLS to PostgreSQL comes from DIALOGNET_DATABASE_URL alone: `sslmode` in the URL reaches asyncpg
through the pool every service opens (nothing rewrites the URL or passes its own `ssl`)."""

import asyncio
import struct
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.runtime import db

SSL_REQUEST_CODE = 80877103  # what a client sends first when it wants TLS


@pytest.fixture
async def server_without_tls() -> AsyncIterator[tuple[int, list[int]]]:
    """A listener answering "no TLS here" ('N') to a TLS request, recording each first
    message's code; it closes anything else."""
    codes: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _length, code = struct.unpack("!ii", await reader.readexactly(8))
        codes.append(code)
        if code == SSL_REQUEST_CODE:
            writer.write(b"N")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, codes


async def test_sslmode_require_in_the_url_insists_on_tls(
    server_without_tls: tuple[int, list[int]],
) -> None:
    port, codes = server_without_tls
    url = f"postgresql://dialognet@127.0.0.1:{port}/dialognet?sslmode=require"
    with pytest.raises(ConnectionError, match="rejected SSL upgrade"):
        await db.create_pool(url, min_size=1, max_size=1)
    assert codes[0] == SSL_REQUEST_CODE


async def test_sslmode_disable_in_the_url_asks_for_no_tls(
    server_without_tls: tuple[int, list[int]],
) -> None:
    port, codes = server_without_tls
    url = f"postgresql://dialognet@127.0.0.1:{port}/dialognet?sslmode=disable"
    with pytest.raises(asyncpg.ConnectionDoesNotExistError):  # the listener closed it
        await db.create_pool(url, min_size=1, max_size=1)
    assert codes
    assert SSL_REQUEST_CODE not in codes
