"""The batch consumer wrapper: many messages in one transaction, each still ending in exactly one
outcome (effect, dead letter or retry), as with the one-message wrapper (consumer.py).

Why batches: a consumer whose effect is a small database write (a read model) is bound by one
commit per message (about 1,000 a second on one connection here); applying what one fetch
brought in one transaction lets it keep up with the broker (bench/projections.py).

The handler parses each message on its own (a message it cannot parse is dead-lettered, the rest
go on) and applies the parsed ones together, with the batch's dead letters, in its own
transaction. A transient failure redelivers the whole batch (the inbox makes the redelivery
harmless); an unexpected one is narrowed down by applying the messages one at a time, so that
only the message that fails is dead-lettered.
"""

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.message import StreamMessage

from schemas.envelope import InvalidEnvelope, decode_envelope
from services.runtime import metrics
from services.runtime.consumer import (
    Backoff,
    Outcome,
    Unprocessable,
    observe_lag,
    observe_latency,
    with_readable_headers,
)
from services.runtime.deadletter import DeadLetter, DeadLetterProducer, send_to_dlq
from services.runtime.transient import is_transient

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Records = tuple[ConsumerRecord[bytes, bytes], ...]


@dataclass(frozen=True)
class Received(Generic[Item]):
    """A parsed message and where it came from."""

    item: Item
    event_id: str
    occurred_at: object
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Batch(Generic[Item]):
    """What one transaction applies: the parsed messages, and the messages of the same fetch
    that were dead-lettered (for the handler to count, say)."""

    received: Sequence[Received[Item]]
    dead_letters: Sequence[DeadLetter]


# A message as fetched, beside what it parsed into.
Applicable = tuple[ConsumerRecord[bytes, bytes], Received[Item]]


class BatchHandler(Protocol[Item]):
    """A service's batch handler."""

    def parse(self, envelope: dict[str, Any]) -> Item:
        """The typed message, or Unprocessable(reason) for one that can never be applied."""
        ...

    async def apply(self, batch: Batch[Item]) -> Sequence[Outcome]:
        """Apply the batch in one transaction; one outcome per received message, in order."""
        ...


class _Retry(Exception):
    """The batch is redelivered after a backoff (transient failure, DLQ unreachable)."""


class BatchSubscription(Generic[Item]):
    """One batch consumer (a name, a group, its topics) running a service's batch handler."""

    def __init__(
        self,
        consumer: str,
        handler: BatchHandler[Item],
        dead_letters: DeadLetterProducer,
        backoff: Backoff | None = None,
    ) -> None:
        self.consumer = consumer
        self._handler = handler
        self._dead_letters = dead_letters
        self._backoff = backoff or Backoff()
        self._subscriber: LogicSubscriber[Any] | None = None

    def register(
        self,
        broker: KafkaBroker,
        topics: Sequence[str],
        group_id: str,
        *,
        max_records: int,
        batch_timeout_ms: int,
        **options: Any,
    ) -> None:
        # MANUAL, as in consumer.py: acknowledged only once the batch's effect is committed.
        subscriber = broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=max_records,
            batch_timeout_ms=batch_timeout_ms,
            parser=_readable_batch_headers,
            decoder=_raw_bodies,
            **options,
        )
        subscriber(self.handle)
        self._subscriber = subscriber

    async def ready(self) -> None:
        """Readiness: the subscriber runs and its consume loop is alive (raises if not)."""
        subscriber = self._subscriber
        if subscriber is None or not subscriber.running:
            raise ConnectionError(f"{self.consumer} is not running")
        if not any(not task.done() for task in subscriber.tasks):
            raise ConnectionError(f"{self.consumer} has no live consume loop")

    async def handle(self, message: KafkaMessage) -> None:
        """End every message of the batch in one outcome; only CancelledError escapes."""
        records: Records = message.raw_message  # type: ignore[assignment]
        try:
            outcomes = await self.process(records)
        except _Retry as retry:
            await self._retry(message, retry)
            return
        self._backoff.reset()
        try:
            await message.ack()
        except Exception as failure:
            # Committed already: a lost offset commit means redelivery, and the inbox dedupes.
            log.warning("%s: offset commit failed (%s)", self.consumer, type(failure).__name__)
        self._observe(message, records, outcomes)

    async def process(self, records: Records) -> list[tuple[Outcome, object]]:
        """Parse, dead-letter and apply `records`; (outcome, occurred_at) of each, in order.
        Raises _Retry when the batch must come again."""
        parsed = [(record, self._parse(record)) for record in records]
        letters = [entry for _, entry in parsed if isinstance(entry, DeadLetter)]
        for letter in letters:
            await self._send_to_dlq(letter)
        applicable = [(record, entry) for record, entry in parsed if isinstance(entry, Received)]
        outcomes = iter(await self._apply(applicable, letters))
        return [
            (next(outcomes), entry.occurred_at)
            if isinstance(entry, Received)
            else (Outcome.DEAD_LETTERED, None)
            for _, entry in parsed
        ]

    def _parse(self, record: ConsumerRecord[bytes, bytes]) -> "Received[Item] | DeadLetter":
        try:
            envelope = decode_envelope(record.value or b"")
            item = self._handler.parse(envelope)
        except InvalidEnvelope as invalid:
            return self._letter(record, str(invalid))
        except Unprocessable as verdict:
            return self._letter(record, verdict.reason)
        except Exception as error:  # a parser bug must not stop the partition: park the message
            log.error(
                "%s: unexpected %s parsing %s",
                self.consumer,
                type(error).__name__,
                _position(record),
            )
            return self._letter(record, f"unexpected failure: {type(error).__name__}")
        return Received(
            item,
            str(envelope["event_id"]),
            envelope.get("occurred_at"),
            record.topic,
            record.partition,
            record.offset,
        )

    def _letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> DeadLetter:
        return DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            error=reason,
            consumer=self.consumer,
        )

    async def _send_to_dlq(self, letter: DeadLetter) -> None:
        try:
            await send_to_dlq(self._dead_letters, letter)
        except Exception as error:  # whatever failed, the batch must not be acknowledged
            raise _Retry(type(error).__name__) from error
        log.warning(
            "%s: dead-lettered %s[%d]@%d to %s",
            self.consumer,
            letter.source_topic,
            letter.partition,
            letter.offset,
            letter.topic,
        )

    async def _apply(
        self, applicable: list[Applicable[Item]], letters: list[DeadLetter]
    ) -> list[Outcome]:
        try:
            return list(await self._handler.apply(Batch([e for _, e in applicable], letters)))
        except Exception as error:
            if is_transient(error):
                raise _Retry(type(error).__name__) from error
            failure = error
        if not applicable:
            # Only dead letters to record, and that failed: they are in the DLQ topic already;
            # retrying an unexpected failure would block the partitions for good.
            log.error(
                "%s: recording %d dead letters failed (%s)",
                self.consumer,
                len(letters),
                type(failure).__name__,
            )
            return []
        if len(applicable) > 1:
            # Some message of the batch fails the handler: one at a time, to find which.
            outcomes = []
            for index, one in enumerate(applicable):
                outcomes += await self._apply([one], letters if index == 0 else [])
            return outcomes
        record, _ = applicable[0]
        # The traceback's frames, not the exception's text: that may quote personal data.
        log.error(
            "%s: unexpected %s at %s, dead-lettering; traceback:\n%s",
            self.consumer,
            type(failure).__name__,
            _position(record),
            "".join(traceback.format_tb(failure.__traceback__)),
        )
        letter = self._letter(record, f"unexpected failure: {type(failure).__name__}: {failure}")
        await self._send_to_dlq(letter)
        await self._apply([], [letter])
        return [Outcome.DEAD_LETTERED]

    async def _retry(self, message: KafkaMessage, retry: _Retry) -> None:
        metrics.CONSUMER_RETRIES.labels(self.consumer).inc()
        delay = self._backoff.next_delay()
        log.warning(
            "%s: transient %s, redelivering the batch in %.1f s", self.consumer, retry, delay
        )
        await asyncio.sleep(delay)
        try:
            await message.nack()  # seek every partition back to its first message of the batch
        except Exception as failure:
            log.warning("%s: nack failed (%s)", self.consumer, type(failure).__name__)

    def _observe(
        self, message: KafkaMessage, records: Records, outcomes: list[tuple[Outcome, object]]
    ) -> None:
        last_of_partition: dict[tuple[str, int], ConsumerRecord[bytes, bytes]] = {}
        for record, (outcome, occurred_at) in zip(records, outcomes, strict=True):
            metrics.CONSUMED.labels(self.consumer, outcome).inc()
            if outcome is Outcome.PROCESSED:
                observe_latency(self.consumer, occurred_at)
            last_of_partition[(record.topic, record.partition)] = record
        for record in last_of_partition.values():
            observe_lag(self.consumer, getattr(message, "consumer", None), record)


def subscribe_batches(
    broker: KafkaBroker,
    topics: Sequence[str],
    *,
    consumer: str,
    group_id: str,
    handler: BatchHandler[Item],
    dead_letters: DeadLetterProducer,
    max_records: int,
    batch_timeout_ms: int,
    backoff: Backoff | None = None,
    **options: Any,
) -> BatchSubscription[Item]:
    subscription = BatchSubscription(consumer, handler, dead_letters, backoff)
    subscription.register(
        broker,
        topics,
        group_id,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        **options,
    )
    return subscription


async def _readable_batch_headers(
    records: Records, parse: Callable[[Records], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream's batch parser decodes header values strictly: a null or non-UTF-8 one
    (both legal in Kafka) would lose the whole batch."""
    return await parse(tuple(with_readable_headers(record) for record in records))


async def _raw_bodies(message: StreamMessage[Any]) -> list[bytes]:
    """The bodies as bytes: decode_envelope decodes each (safely, unlike json.loads)."""
    bodies: list[bytes] = message.body  # type: ignore[assignment]
    return bodies


def _position(record: ConsumerRecord[bytes, bytes]) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"
