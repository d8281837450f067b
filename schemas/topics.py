"""Topic names, partition counts and retention: the one place that spells them."""

from collections.abc import Iterator
from dataclasses import dataclass
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

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Retention:
    """How long Kafka keeps a topic's messages (`retention.ms`) and how often it starts a new
    segment (`segment.ms`). Kafka deletes only whole closed segments, so a message stays at most
    `retention_ms + segment_ms`."""

    retention_ms: int
    segment_ms: int

    @property
    def kept_at_most_ms(self) -> int:
        return self.retention_ms + self.segment_ms

    def topic_configs(self) -> dict[str, str]:
        """The topic configs, named as CreateTopics, KafkaTopic and kafka-configs.sh name them."""
        return {"retention.ms": str(self.retention_ms), "segment.ms": str(self.segment_ms)}


# Why Kafka keeps so little: the outbox of each writing service is its event log, kept in
# PostgreSQL, and `dialognet replay` republishes it (consumers dedupe by event_id). Kafka need
# not keep the facts forever, only as long as a consumer may be behind.
#
# Topics carrying personal data: 7 days, in 1-day segments, so a fact is gone from the brokers
# within 8 days of being written; that bounds how long an erasure waits on Kafka. 7 days is also
# the age beyond which notification sends no mail about a fact
# (DIALOGNET_NOTIFICATION_MAX_AGE_SECONDS).
PERSONAL_DATA = Retention(retention_ms=7 * DAY_MS, segment_ms=DAY_MS)
# Topics without personal data: 90 days, in weekly segments.
WITHOUT_PERSONAL_DATA = Retention(retention_ms=90 * DAY_MS, segment_ms=7 * DAY_MS)

# Every topic's retention. A dead-letter topic keeps what its topic keeps: it holds copies of
# its messages. deploy/k8s/base/kafka/topics.yaml and deploy/kafka/topics.tsv must say the same
# (tests/unit/deploy checks them against this table); services/runtime/kafka_topics.py creates
# the topics with it.
RETENTION: dict[Topic, Retention] = {
    # The contact's name, e-mail address and phone number.
    Topic.ORGANIZATIONS: PERSONAL_DATA,
    # Titles, venues, times, counts and registration ids.
    Topic.FORUMS: WITHOUT_PERSONAL_DATA,
    # The contact, accessibility and interpreting needs, the cancel token.
    Topic.REGISTRATIONS: PERSONAL_DATA,
    # The recipient only as a SHA-256 hash, which the notification schema keeps after an
    # erasure too; reporting rebuilds its e-mail counts from here.
    Topic.NOTIFICATIONS: WITHOUT_PERSONAL_DATA,
    # Other systems' commands carry contacts. Unlike the facts they are in no outbox: a command
    # the registration service has not read within 7 days is gone.
    Topic.INTAKE: PERSONAL_DATA,
    # A rejection echoes the command (up to 200 characters a field).
    Topic.INTAKE_REJECTED: PERSONAL_DATA,
}


def topic_name(topic: Topic, prefix: str = DEFAULT_PREFIX) -> str:
    """Full Kafka topic name, e.g. `dialognet.registrations`."""
    return f"{prefix}{topic.value}"


def dlq_name(topic: Topic, prefix: str = DEFAULT_PREFIX) -> str:
    """Dead-letter topic of a consumed topic, e.g. `dialognet.intake.dlq`."""
    return f"{topic_name(topic, prefix)}{DLQ_SUFFIX}"


def _created(prefix: str) -> Iterator[tuple[str, Topic, bool]]:
    """(full name, topic, is its dead-letter topic) of every topic the platform creates."""
    for topic in PARTITIONS:
        yield topic_name(topic, prefix), topic, False
    for topic in PARTITIONS:
        if topic is not Topic.INTAKE_REJECTED:  # no service consumes it: none dead-letters it
            yield dlq_name(topic, prefix), topic, True


def all_topics(prefix: str = DEFAULT_PREFIX) -> dict[str, int]:
    """Every topic the platform creates at start-up, with its partition count."""
    return {
        name: DLQ_PARTITIONS if dead_letters else PARTITIONS[topic]
        for name, topic, dead_letters in _created(prefix)
    }


def retention_by_topic(prefix: str = DEFAULT_PREFIX) -> dict[str, Retention]:
    """Every topic the platform creates, with its retention (a dead-letter topic: its topic's)."""
    return {name: RETENTION[topic] for name, topic, _ in _created(prefix)}
