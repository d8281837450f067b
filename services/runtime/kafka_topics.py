"""The platform's topics, created at start-up: each with its partition count and retention from
the contract (schemas/topics.py), the replication factor and min.insync.replicas from settings.

Existing topics are left as they are: Kafka keeps the configuration they were created with, so a
retention changed in the contract reaches only topics created after it. Nothing here alters a
topic; where the services created the topics, an operator changes them with kafka-configs.sh
(docs/operations.md, "Retention"). Each start logs how many topics it left alone."""

import logging

from aiokafka.admin import NewTopic
from aiokafka.errors import for_code

from schemas.topics import Retention, all_topics, retention_by_topic
from services.runtime import kafka
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36  # another replica created it first


class TopicCreationRefused(RuntimeError):
    """The broker refused to create a topic; the message names it, the reason and the settings."""


async def ensure_topics(settings: Settings) -> list[str]:
    """Create every dialognet topic that is missing; returns the names created."""
    wanted = all_topics(settings.topic_prefix)
    retention = retention_by_topic(settings.topic_prefix)
    admin = kafka.new_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name,
                partitions,
                settings.kafka_replication_factor,
                topic_configs=topic_configs(settings, retention[name]),
            )
            for name, partitions in wanted.items()
            if name not in existing
        ]
        _log_left_alone(len(wanted) - len(missing))
        if not missing:
            return []
        response = await admin.create_topics(missing)
    finally:
        await admin.close()
    # The broker answers per topic in the response instead of raising: a replication factor
    # larger than the cluster, a missing CREATE permission or a config it refuses would
    # otherwise pass unseen.
    _raise_refusals(settings, response.topic_errors)
    log.info("created topics %s", [topic.name for topic in missing])
    return [topic.name for topic in missing]


def topic_configs(settings: Settings, retention: Retention) -> dict[str, str]:
    """The configs a topic is created with: its retention, and min.insync.replicas if set."""
    configs = retention.topic_configs()
    if settings.kafka_min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(settings.kafka_min_insync_replicas)
    return configs


def _log_left_alone(count: int) -> None:
    if count:
        # Said on every start: after a release that changed RETENTION, this is the line that
        # tells an operator why the running topics did not follow.
        log.info(
            "topics that exist already, left with the configuration the broker has for them: %d"
            " (retention is set only when a topic is created; docs/operations.md, Retention)",
            count,
        )


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
