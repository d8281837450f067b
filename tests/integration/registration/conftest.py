"""A registration service shared by the tests of one module, for the tests that isolate by data.

Starting a service costs about a second (the intake consumer joins its group), so tests that
work on their own forums and organisations and only read those share one service per module
(DESIGN.md: each test isolates itself — own topic prefix or own forum). Tests that list or count
everything ask for the fresh `registration` fixture instead.
"""

from collections.abc import AsyncIterator

import pytest

from services.runtime.settings import Settings
from tests.integration.conftest import RunningService, running_registration


@pytest.fixture(scope="module")
async def service(module_settings: Settings) -> AsyncIterator[RunningService]:
    """One running service per module, on its own database and topic prefix."""
    async with running_registration(module_settings) as running:
        yield running
