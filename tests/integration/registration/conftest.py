"""A registration service shared by the tests of one module, for the tests that isolate by data.

Starting a service costs about a second (the intake consumer joins its group), so tests that
work on their own forums and organisations and only read those share one service per module
(DESIGN.md: each test isolates itself — own topic prefix or own forum). Tests that list or count
everything ask for the fresh `registration` fixture instead.
"""

import secrets
from collections.abc import AsyncIterator

import pytest

from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN, Infra, fresh_database
from tests.integration.conftest import RunningService, running_registration


@pytest.fixture(scope="module")
async def service(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningService]:
    """One running service per module, on its own database and topic prefix."""
    async with fresh_database(infra) as database_url:
        port = free_port()
        prefix = f"t{secrets.token_hex(4)}."
        settings = Settings(
            database_url=database_url,
            kafka_bootstrap=infra.kafka_bootstrap,
            topic_prefix=prefix,
            # Its own consumer group: the default one is shared by every test's service, and a
            # second live member (a test's own service beside this one) would stall both joins.
            kafka_consumer_group_prefix=f"{prefix}dialognet-",
            admin_token=TEST_ADMIN_TOKEN,
            data_dir=tmp_path_factory.mktemp("service"),
            registration_port=port,
            public_base_url=f"http://127.0.0.1:{port}",
            kafka_session_timeout_ms=2000,
        )
        async with running_registration(settings) as running:
            yield running
