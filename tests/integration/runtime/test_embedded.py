"""The infrastructure fixtures give a working database and broker."""

import uuid

import asyncpg
import pytest

from services.runtime.settings import Settings
from tests.conftest import Infra
from tests.kafka_helpers import consume_until, produce

pytestmark = pytest.mark.integration


async def test_fresh_database_answers_queries(infra: Infra, database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT 1") == 1
        assert (await conn.fetchval("SELECT current_database()")).startswith("dn_")
        tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        assert await conn.fetchval(tables) == 0
        if infra.embedded_postgres:
            assert int(await conn.fetchval("SHOW server_version_num")) // 10000 == 18
    finally:
        await conn.close()


async def test_message_produced_is_consumed_back(infra: Infra, topic_prefix: str) -> None:
    topic = f"{topic_prefix}roundtrip"
    event_id = str(uuid.uuid4())
    await produce(
        infra.kafka_bootstrap, topic, {"event_id": event_id}, key="forum-1", headers={"type": "t"}
    )
    [message] = await consume_until(infra.kafka_bootstrap, topic, 1, timeout=15)
    assert message.value == {"event_id": event_id}
    assert message.key == "forum-1"
    assert message.headers == {"type": "t"}


def test_settings_point_at_the_fixtures(
    settings: Settings, infra: Infra, topic_prefix: str
) -> None:
    assert settings.bootstrap() == infra.kafka_bootstrap
    assert settings.topic_prefix == topic_prefix
    assert settings.public_base_url.endswith(str(settings.registration_port))
