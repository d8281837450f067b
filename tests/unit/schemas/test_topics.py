"""The retention table of the contract: every topic has one, a dead-letter topic keeps what its
topic keeps, and personal data leaves Kafka within the 8 days the privacy notes promise."""

from schemas.topics import (
    DAY_MS,
    PARTITIONS,
    RETENTION,
    Topic,
    all_topics,
    dlq_name,
    retention_by_topic,
    topic_name,
)

# What the design says carries contact data (docs/operations.md, "Erasure requests"): the
# organisations' contacts, the registrations' contacts and needs, the commands of other systems
# and the rejections that echo them.
WITH_PERSONAL_DATA = {Topic.ORGANIZATIONS, Topic.REGISTRATIONS, Topic.INTAKE, Topic.INTAKE_REJECTED}
ERASED_FROM_KAFKA_WITHIN_MS = 8 * DAY_MS


def test_every_topic_has_a_retention() -> None:
    assert set(RETENTION) == set(Topic) == set(PARTITIONS)
    assert set(retention_by_topic("p.")) == set(all_topics("p."))


def test_a_dead_letter_topic_keeps_what_its_topic_keeps() -> None:
    kept = retention_by_topic("p.")
    for topic in Topic:
        if dlq_name(topic, "p.") in kept:
            assert kept[dlq_name(topic, "p.")] == kept[topic_name(topic, "p.")], topic


def test_personal_data_leaves_kafka_within_eight_days_and_sooner_than_the_rest() -> None:
    personal = [RETENTION[topic] for topic in WITH_PERSONAL_DATA]
    others = [RETENTION[topic] for topic in set(Topic) - WITH_PERSONAL_DATA]
    assert max(r.kept_at_most_ms for r in personal) <= ERASED_FROM_KAFKA_WITHIN_MS
    assert max(r.retention_ms for r in personal) < min(r.retention_ms for r in others)


def test_segments_roll_well_within_the_retention() -> None:
    # Kafka deletes closed segments only: a segment as long as the retention would double it.
    for topic, retention in RETENTION.items():
        assert 0 < retention.segment_ms <= retention.retention_ms // 7, topic


def test_the_topic_configs_are_in_kafkas_names_and_milliseconds() -> None:
    assert RETENTION[Topic.REGISTRATIONS].topic_configs() == {
        "retention.ms": "604800000",  # 7 days
        "segment.ms": "86400000",  # 1 day
    }
    assert RETENTION[Topic.FORUMS].topic_configs() == {
        "retention.ms": "7776000000",  # 90 days
        "segment.ms": "604800000",  # 7 days
    }
