"""Kafka clients configured one way for every service, and topic creation at start-up."""

import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import all_topics
from services.runtime.settings import Settings

log = logging.getLogger(__name__)


def producer_options(settings: Settings) -> dict[str, Any]:
    # acks=all always; idempotence is off by default because Tansu refuses InitProducerId.
    # Exactly-once comes from outbox + inbox, not from broker transactions.
    return {
        "bootstrap_servers": settings.bootstrap(),
        "acks": "all",
        "enable_idempotence": settings.kafka_enable_idempotence,
        "linger_ms": 0,
    }


def consumer_options(settings: Settings) -> dict[str, Any]:
    return {
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": max(settings.kafka_session_timeout_ms // 5, 100),
    }


def new_producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**producer_options(settings))


async def ensure_topics(settings: Settings) -> list[str]:
    """Create every dialognet topic with its partition count; existing ones are left alone."""
    wanted = all_topics(settings.topic_prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, replication_factor=1)
            for name, partitions in wanted.items()
            if name not in existing
        ]
        if missing:
            # Another replica may have created them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            log.info("created topics %s", [topic.name for topic in missing])
        return [topic.name for topic in missing]
    finally:
        await admin.close()
