"""Topic names and partition counts: the one place that spells them."""

from enum import StrEnum

DEFAULT_PREFIX = "dialognet."


class Topic(StrEnum):
    ORGANIZATIONS = "organizations"
    FORUMS = "forums"
    REGISTRATIONS = "registrations"
    NOTIFICATIONS = "notifications"
    INTAKE = "intake"
    INTAKE_REJECTED = "intake.rejected"


# Keyed fact topics get several partitions so consumers can scale out; order is per key.
PARTITIONS: dict[Topic, int] = {
    Topic.ORGANIZATIONS: 3,
    Topic.FORUMS: 3,
    Topic.REGISTRATIONS: 6,
    Topic.NOTIFICATIONS: 3,
    Topic.INTAKE: 6,
    Topic.INTAKE_REJECTED: 3,
}
DLQ_PARTITIONS = 1
DLQ_SUFFIX = ".dlq"


def topic_name(topic: Topic, prefix: str = DEFAULT_PREFIX) -> str:
    """Full Kafka topic name, e.g. `dialognet.registrations`."""
    return f"{prefix}{topic.value}"


def dlq_name(topic: Topic, prefix: str = DEFAULT_PREFIX) -> str:
    """Dead-letter topic of a consumed topic, e.g. `dialognet.intake.dlq`."""
    return f"{topic_name(topic, prefix)}{DLQ_SUFFIX}"


def all_topics(prefix: str = DEFAULT_PREFIX) -> dict[str, int]:
    """Every topic the platform creates at start-up, with its partition count."""
    topics = {topic_name(topic, prefix): count for topic, count in PARTITIONS.items()}
    for topic in PARTITIONS:
        if topic is not Topic.INTAKE_REJECTED:
            topics[dlq_name(topic, prefix)] = DLQ_PARTITIONS
    return topics
