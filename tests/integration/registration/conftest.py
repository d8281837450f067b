"""A registration service shared by the tests of one module, for the tests that isolate by data.

Starting a service costs about a second (the intake consumer joins its group), so tests that
work on their own forums and organisations and only read those share one service per module
(DESIGN.md: each test isolates itself — own topic prefix or own forum). Tests that list or count
everything ask for the fresh `registration` fixture instead.
"""

import secrets
from collections.abc import AsyncIterator

import pytest

from services.runtime.settings import Settings
from tests.conftest import Infra, fresh_database, test_settings
from tests.integration.conftest import RunningService, running_registration


@pytest.fixture(scope="module")
async def module_settings(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Settings]:
    """Settings of a platform shared by one module: its own database, topics and groups."""
    async with fresh_database(infra) as database_url:
        prefix = f"t{secrets.token_hex(4)}."
        yield test_settings(infra, database_url, prefix, tmp_path_factory.mktemp("service"))


@pytest.fixture(scope="module")
async def service(module_settings: Settings) -> AsyncIterator[RunningService]:
    """One running service per module, on its own database and topic prefix."""
    async with running_registration(module_settings) as running:
        yield running
