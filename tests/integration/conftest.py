"""Integration fixtures: the registration service running in-process over real HTTP."""

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from services.registration.app import create_app
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN, Infra, fresh_database, test_settings
from tests.serving import served


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
    app = create_app(settings)
    async with served(app, settings.registration_port, "registration service") as base_url:
        headers = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
        async with (
            httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as staff,
            httpx.AsyncClient(base_url=base_url, timeout=30) as public,
        ):
            yield RunningService(settings, base_url, staff, public)


@pytest.fixture
async def registration(settings: Settings) -> AsyncIterator[RunningService]:
    async with running_registration(settings) as service:
        yield service


@pytest.fixture(scope="module")
async def module_settings(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Settings]:
    """Settings of a platform shared by one module: its own database, topics and groups."""
    async with fresh_database(infra) as database_url:
        prefix = f"t{secrets.token_hex(4)}."
        yield test_settings(infra, database_url, prefix, tmp_path_factory.mktemp("service"))
