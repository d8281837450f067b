"""The event contract of dialognet: envelope, typed payloads, topic names."""

from schemas.catalog import EVENT_TYPES, TOPIC_OF_TYPE, event_class, parse_event
from schemas.envelope import Envelope, new_event_id, utc_now
from schemas.topics import Topic, topic_name

__all__ = [
    "EVENT_TYPES",
    "TOPIC_OF_TYPE",
    "Envelope",
    "Topic",
    "event_class",
    "new_event_id",
    "parse_event",
    "topic_name",
    "utc_now",
]
