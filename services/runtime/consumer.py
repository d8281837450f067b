"""What every Kafka consumer shares: retry backoff, lag and event-latency metrics."""

from datetime import datetime
from typing import Any

from aiokafka import TopicPartition

from schemas.envelope import utc_now
from services.runtime import metrics

INITIAL_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 30.0


class Backoff:
    """Exponential delay between redeliveries of a transiently failing message."""

    def __init__(self) -> None:
        self._delay = INITIAL_DELAY_SECONDS

    def next_delay(self) -> float:
        delay = self._delay
        self._delay = min(self._delay * 2, MAX_DELAY_SECONDS)
        return delay

    def reset(self) -> None:
        self._delay = INITIAL_DELAY_SECONDS


def observe_processed(consumer: str, message: Any, occurred_at: object) -> None:
    """Latency from the event's occurred_at, and the partition's lag behind its end."""
    try:
        occurred = datetime.fromisoformat(str(occurred_at))
        if occurred.tzinfo is not None:
            latency = (utc_now() - occurred).total_seconds()
            metrics.PROCESSING_LATENCY.labels(consumer).observe(max(latency, 0.0))
    except ValueError:
        pass  # a bad timestamp was already reported by validation
    record = message.raw_message
    kafka_consumer = getattr(message, "consumer", None)
    highwater = getattr(kafka_consumer, "highwater", None)
    if highwater is None:
        return
    end = highwater(TopicPartition(record.topic, record.partition))
    if end is not None:
        metrics.CONSUMER_LAG.labels(consumer, record.topic, str(record.partition)).set(
            max(end - record.offset - 1, 0)
        )
