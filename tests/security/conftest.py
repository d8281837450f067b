"""The whole embedded platform for the security tests: the mail sink, registration, notification
and reporting in the test's event loop, on one test database and the module's own topics."""

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from services.runtime.settings import Settings
from tests.conftest import Infra, fresh_database, test_settings
from tests.integration.notification.conftest import Platform, platform_settings, running_platform
from tests.integration.reporting.conftest import (
    RunningReporting,
    reporting_settings,
    running_reporting,
)


@dataclass
class WholePlatform:
    """Every service a person or another system can reach, started together."""

    settings: Settings
    services: Platform  # registration, notification and the mail sink
    reporting: RunningReporting


def whole_settings(base: Settings, **overrides: Any) -> Settings:
    # The walk calls hundreds of times from one address, most of them anonymous or with
    # unknown tokens: the limits meant for strangers would answer 429 instead of the rule under
    # test. A revoked token must be refused at once, not a role-cache lifetime later.
    relaxed = base.model_copy(
        update={
            "public_rate_limit_per_minute": 100_000,
            "failed_token_lookups_per_minute": 100_000,
            "token_cache_seconds": 0.0,
            **overrides,
        }
    )
    return reporting_settings(platform_settings(relaxed))


@contextlib.asynccontextmanager
async def running_whole(settings: Settings) -> AsyncIterator[WholePlatform]:
    async with (
        running_platform(settings) as services,
        running_reporting(settings) as reporting,
    ):
        yield WholePlatform(settings, services, reporting)


@pytest.fixture(scope="module")
async def whole(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WholePlatform]:
    """One platform per module, on its own database and topics; tests isolate by their own
    forums, organisations and addresses."""
    async with fresh_database(infra) as database_url:
        prefix = f"t{secrets.token_hex(4)}."
        base = test_settings(infra, database_url, prefix, tmp_path_factory.mktemp("security"))
        async with running_whole(whole_settings(base)) as running:
            yield running
