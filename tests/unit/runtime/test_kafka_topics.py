"""The configs a topic is created with: its retention from the contract, and
min.insync.replicas only when it is set."""

from schemas.topics import RETENTION, Topic
from services.runtime.kafka_topics import topic_configs
from services.runtime.settings import Settings


def test_a_topic_is_created_with_its_retention() -> None:
    retention = RETENTION[Topic.ORGANIZATIONS]
    assert topic_configs(Settings(), retention) == retention.topic_configs()
    assert set(retention.topic_configs()) == {"retention.ms", "segment.ms"}


def test_min_insync_replicas_is_added_when_set() -> None:
    settings = Settings(kafka_replication_factor=3, kafka_min_insync_replicas=2)
    retention = RETENTION[Topic.NOTIFICATIONS]
    assert topic_configs(settings, retention) == {
        **retention.topic_configs(),
        "min.insync.replicas": "2",
    }
