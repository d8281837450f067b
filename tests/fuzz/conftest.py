"""The whole embedded platform in the test's event loop, for the fuzz: mail sink, registration,
notification and reporting on one test database and their own topics. Settings come from the
session's `settings` (tests/conftest.py): DIALOGNET_KAFKA_BOOTSTRAP and DIALOGNET_DATABASE_URL
point it at other infrastructure."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from services.runtime.settings import Settings
from tests.integration.notification.conftest import Platform, platform_settings, running_platform
from tests.integration.reporting.conftest import (
    RunningReporting,
    reporting_settings,
    running_reporting,
)


@dataclass
class EveryService:
    platform: Platform
    reporting: RunningReporting

    @property
    def settings(self) -> Settings:
        return self.platform.settings


@pytest.fixture
async def every_service(settings: Settings) -> AsyncIterator[EveryService]:
    configured = reporting_settings(platform_settings(settings))
    async with (
        running_platform(configured) as platform,
        running_reporting(configured) as reporting,
    ):
        yield EveryService(platform, reporting)
