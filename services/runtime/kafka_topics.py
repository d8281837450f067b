"""The platform's topics, created at start-up: each with its partition count, the replication
factor and min.insync.replicas from settings. Existing topics are left as they are."""

import logging

from aiokafka.admin import NewTopic
from aiokafka.errors import for_code

from schemas.topics import all_topics
from services.runtime import kafka
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36  # another replica created it first


class TopicCreationRefused(RuntimeError):
    """The broker refused to create a topic; the message names it, the reason and the settings."""


async def ensure_topics(settings: Settings) -> list[str]:
    """Create every dialognet topic that is missing; returns the names created."""
    admin = kafka.new_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            _new_topic(settings, name, partitions)
            for name, partitions in all_topics(settings.topic_prefix).items()
            if name not in existing
        ]
        if not missing:
            return []
        response = await admin.create_topics(missing)
    finally:
        await admin.close()
    # The broker answers per topic in the response instead of raising: a replication factor
    # larger than the cluster or a missing CREATE permission would otherwise pass unseen.
    _raise_refusals(settings, response.topic_errors)
    log.info("created topics %s", [topic.name for topic in missing])
    return [topic.name for topic in missing]


def _new_topic(settings: Settings, name: str, partitions: int) -> NewTopic:
    configs = {}
    if settings.kafka_min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(settings.kafka_min_insync_replicas)
    return NewTopic(name, partitions, settings.kafka_replication_factor, topic_configs=configs)


def _raise_refusals(settings: Settings, topic_errors: list[tuple[object, ...]]) -> None:
    refusals = []
    for name, code, *message in topic_errors:
        if code in (0, _TOPIC_ALREADY_EXISTS):
            continue
        detail = message[0] if message and message[0] else for_code(code).description
        refusals.append(f"{name}: {for_code(code).__name__} ({detail})")
    if refusals:
        raise TopicCreationRefused(
            "the broker refused to create "
            + "; ".join(refusals)
            + f" (DIALOGNET_KAFKA_REPLICATION_FACTOR={settings.kafka_replication_factor}, "
            f"DIALOGNET_KAFKA_MIN_INSYNC_REPLICAS={settings.kafka_min_insync_replicas}, "
            f"user {settings.kafka_sasl_username or 'none'})"
        )
