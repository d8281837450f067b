"""The projection consumer: every fact of the four topics into the read models, in batches,
through the runtime's consumer wrapper (dead letters for what cannot be applied, retries for
transient failures)."""

from collections.abc import Sequence
from datetime import datetime

from schemas.topics import topic_name
from services.reporting.projection.facts import CONSUMED_TOPICS, parse_fact
from services.reporting.projector import Event, Projector
from services.runtime.consumer import Batch, Outcome

# The consumer group is `<kafka_consumer_group_prefix>reporting`, the inbox keys are its.
CONSUMER = "reporting"


class ProjectionConsumer:
    """A `services.runtime.consumer.BatchHandler` of facts."""

    def __init__(self, projector: Projector) -> None:
        self._projector = projector

    def parse(self, body: bytes) -> Event:
        return event_of(body)

    def occurred_at(self, item: Event) -> datetime:
        return item.fact.occurred_at

    async def apply(self, batch: Batch[Event]) -> Sequence[Outcome]:
        events = [received.item for received in batch.received]
        return await self._projector.apply_live(events, batch.dead_letters)


def event_of(body: bytes) -> Event:
    """The fact of a message by its id (InvalidEnvelope or Unprocessable for none)."""
    fact = parse_fact(body)
    # The id as the contract types it: the same event in another spelling is a duplicate.
    return Event(str(fact.event_id), fact)


def consumed_topics(prefix: str) -> list[str]:
    return [topic_name(topic, prefix) for topic in CONSUMED_TOPICS]
