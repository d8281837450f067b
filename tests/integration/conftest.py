"""Integration fixtures: the registration service running in-process over real HTTP."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import uvicorn

from services.registration.app import create_app
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN

STARTUP_TIMEOUT_SECONDS = 30.0


@dataclass
class RunningService:
    """A started registration service: its URL, settings and a client with the staff token."""

    settings: Settings
    base_url: str
    staff: httpx.AsyncClient
    public: httpx.AsyncClient

    async def database(self) -> asyncpg.Connection:
        assert self.settings.database_url is not None
        return await asyncpg.connect(self.settings.database_url.get_secret_value())


@contextlib.asynccontextmanager
async def running_registration(settings: Settings) -> AsyncIterator[RunningService]:
    """Serve the real app with uvicorn on the settings' port until the block ends."""
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=settings.registration_port,
        log_level="warning",
        lifespan="on",
        # As serve() runs it: forwarded headers are the app's to judge. uvicorn's default would
        # replace the peer with X-Forwarded-For's client before the app sees it.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error
        if time.monotonic() > deadline:
            raise AssertionError("registration service did not start")
        await asyncio.sleep(0.02)
    base_url = f"http://127.0.0.1:{settings.registration_port}"
    headers = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
    async with (
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as staff,
        httpx.AsyncClient(base_url=base_url, timeout=30) as public,
    ):
        try:
            yield RunningService(settings, base_url, staff, public)
        finally:
            server.should_exit = True
            await task


@pytest.fixture
async def registration(settings: Settings) -> AsyncIterator[RunningService]:
    async with running_registration(settings) as service:
        yield service
