"""Shared fixtures: real PostgreSQL and Kafka, started lazily only for tests that ask for them."""

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from services.runtime.db import database_url_for
from services.runtime.embedded import free_port, infrastructure
from services.runtime.settings import Settings

TEST_ADMIN_TOKEN = "test-admin-token"


@dataclass(frozen=True)
class Infra:
    """Where the session's PostgreSQL server and Kafka broker are."""

    admin_database_url: str
    kafka_bootstrap: str
    embedded_postgres: bool


@contextmanager
def outside_pytest_tmp() -> Iterator[Path]:
    """A scratch directory for embedded PostgreSQL, removed afterwards.

    Not under pytest's tmp_path: every pytest run on the machine resets /tmp/pytest-of-<user>
    to 0700, which locks out the unprivileged user the embedded server runs as (initdb fails
    with "Permission denied" when another test session starts at the same moment)."""
    path = Path(tempfile.mkdtemp(prefix="dialognet-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    with outside_pytest_tmp() as path:
        yield path


@pytest.fixture(scope="session")
async def infra() -> AsyncIterator[Infra]:
    with outside_pytest_tmp() as base:
        async with _infrastructure(base) as found:
            yield found


@asynccontextmanager
async def _infrastructure(base: Path) -> AsyncIterator[Infra]:
    # Never the machine's own PostgreSQL: only what DIALOGNET_DATABASE_URL names, else embedded.
    database_url = os.environ.get("DIALOGNET_DATABASE_URL")
    bootstrap = os.environ.get("DIALOGNET_KAFKA_BOOTSTRAP")
    async with infrastructure(base, database_url, bootstrap) as started:
        yield Infra(
            started.database_url, started.kafka_bootstrap, embedded_postgres=database_url is None
        )


@asynccontextmanager
async def fresh_database(infra: Infra) -> AsyncIterator[str]:
    """The URL of a new, empty database on the session's server, dropped afterwards."""
    name = f"dn_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(infra.admin_database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield database_url_for(infra.admin_database_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def database_url(infra: Infra) -> AsyncIterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    async with fresh_database(infra) as url:
        yield url


@pytest.fixture
def topic_prefix() -> str:
    """Own topics per test, so tests sharing the broker never see each other's messages."""
    return f"t{secrets.token_hex(4)}."


def test_settings(infra: Infra, database_url: str, topic_prefix: str, data_dir: Path) -> Settings:
    """Settings of a test's own platform: its database, topics, consumer groups and ports."""
    port = free_port()
    return Settings(
        database_url=database_url,
        kafka_bootstrap=infra.kafka_bootstrap,
        topic_prefix=topic_prefix,
        admin_token=TEST_ADMIN_TOKEN,
        data_dir=data_dir,
        registration_port=port,
        public_base_url=f"http://127.0.0.1:{port}",
        kafka_session_timeout_ms=2000,
        # Own consumer groups: services of different tests never wait on each other's joins.
        kafka_consumer_group_prefix=f"{topic_prefix}dialognet-",
    )


@pytest.fixture
def settings(infra: Infra, database_url: str, topic_prefix: str, tmp_path: Path) -> Settings:
    return test_settings(infra, database_url, topic_prefix, tmp_path)
