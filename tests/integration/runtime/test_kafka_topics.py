"""Topic creation on the real broker the fixtures start: every topic is created with the
retention of the contract (schemas/topics.py), which the broker reports back through
DescribeConfigs; a topic that exists already keeps the configuration it has, and the start-up
says so."""

import logging

import pytest
from aiokafka.admin import NewTopic

from schemas.topics import Topic, all_topics, retention_by_topic, topic_name
from services.runtime import kafka
from services.runtime.kafka_topics import ensure_topics
from services.runtime.settings import Settings
from tests.conftest import Infra
from tests.kafka_helpers import topic_configs

AN_HOUR_MS = "3600000"


@pytest.fixture
def kafka_settings(infra: Infra, topic_prefix: str) -> Settings:
    return Settings(kafka_bootstrap=infra.kafka_bootstrap, topic_prefix=topic_prefix)


async def described(settings: Settings, topics: list[str]) -> dict[str, dict[str, str]]:
    admin = kafka.new_admin(settings)
    await admin.start()
    try:
        return await topic_configs(admin, topics)
    finally:
        await admin.close()


async def test_every_topic_is_created_with_the_retention_of_the_contract(
    kafka_settings: Settings,
) -> None:
    retention = retention_by_topic(kafka_settings.topic_prefix)

    created = await ensure_topics(kafka_settings)

    assert sorted(created) == sorted(retention)
    configs = await described(kafka_settings, created)
    for topic, kept in retention.items():
        reported = {name: configs[topic].get(name) for name in kept.topic_configs()}
        assert reported == kept.topic_configs(), topic


async def test_a_topic_that_exists_keeps_its_configuration(
    kafka_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    forums = topic_name(Topic.FORUMS, kafka_settings.topic_prefix)
    admin = kafka.new_admin(kafka_settings)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(forums, 3, 1, topic_configs={"retention.ms": AN_HOUR_MS})]
        )
    finally:
        await admin.close()

    with caplog.at_level(logging.INFO, logger="services.runtime.kafka_topics"):
        created = await ensure_topics(kafka_settings)

    assert forums not in created
    assert len(created) == len(all_topics(kafka_settings.topic_prefix)) - 1
    assert (await described(kafka_settings, [forums]))[forums]["retention.ms"] == AN_HOUR_MS
    assert "exist already, left with the configuration the broker has for them: 1" in caplog.text
