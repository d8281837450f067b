"""The consumer wrapper every service subscribes with: each message ends in exactly one outcome.

Effect (processed, duplicate, rejected → ack), dead letter (→ `<topic>.dlq`, then ack), or retry
(not acked: redelivered after a backoff, per-partition order kept). Nothing is skipped.

Why a wrapper: under FastStream's MANUAL ack an exception escaping the handler is logged and
swallowed, and the next message's ack commits the consumer's position past it: the message is
lost. So the handler here never lets one escape, except `asyncio.CancelledError` (shutdown),
which leaves the message unacknowledged for the next owner of its partition.

One wrapper for single messages and batches. A handler parses each message on its own (one it
cannot parse is dead-lettered, the rest go on) and applies the parsed ones together, with the
fetch's dead letters, in one transaction of its own. A `subscribe`d handler takes one envelope
at a time; a `subscribe_batches` one takes what one fetch brought (up to `max_records`): a
consumer whose effect is a small database write (a read model) is bound by one commit per
message (about 1,000 a second on one connection here), so applying a fetch in one transaction
lets it keep up with the broker (bench/projections.py). A transient failure redelivers the
whole fetch (the inbox makes the redelivery harmless); an unexpected one is narrowed down by
applying the messages one at a time, so that only the message that fails is dead-lettered.
"""

import asyncio
import dataclasses
import logging
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.message import StreamMessage

from schemas.envelope import InvalidEnvelope, decode_envelope, utc_now
from services.runtime import metrics
from services.runtime.backoff import Backoff
from services.runtime.bounded import bounded_text
from services.runtime.deadletter import (
    MAX_REASON_CHARS,
    DeadLetter,
    DeadLetterProducer,
    send_to_dlq,
)
from services.runtime.transient import is_transient

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Record: TypeAlias = ConsumerRecord[bytes, bytes]
Records: TypeAlias = tuple[Record, ...]


class Outcome(StrEnum):
    """How a consumed message ended: the `outcome` label of dialognet_consumer_messages_total."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    DEAD_LETTERED = "dead_lettered"


class Unprocessable(Exception):
    """A handler's verdict that a message can never succeed: it is dead-lettered with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A service's handler of single messages: takes the decoded envelope (a JSON object with the
# envelope fields), returns how it ended, or raises Unprocessable; any other exception is
# transient or a dead letter.
EnvelopeHandler = Callable[[dict[str, Any]], Awaitable[Outcome]]


@dataclasses.dataclass(frozen=True)
class Received(Generic[Item]):
    """A parsed message and when its event occurred (for the latency metric)."""

    item: Item
    occurred_at: datetime | None


@dataclasses.dataclass(frozen=True)
class Batch(Generic[Item]):
    """What one transaction applies: the parsed messages, and the messages of the same fetch
    that were dead-lettered (for the handler to count, say)."""

    received: Sequence[Received[Item]]
    dead_letters: Sequence[DeadLetter]


class BatchHandler(Protocol[Item]):
    """A service's handler of what one fetch brought."""

    def parse(self, body: bytes) -> Item:
        """The typed message; InvalidEnvelope for what is no envelope, Unprocessable(reason) for
        one that can never be applied."""
        ...

    def occurred_at(self, item: Item) -> datetime | None:
        """When the message's event occurred (an aware time), if it says."""
        ...

    async def apply(self, batch: Batch[Item]) -> Sequence[Outcome]:
        """Apply the batch in one transaction; one outcome per received message, in order.
        Unprocessable: the one message of a batch of one can never succeed."""
        ...


class Envelopes:
    """Messages parsed as decoded envelopes (JSON objects with the envelope fields): what a
    BatchHandler of envelopes adds `apply` to."""

    def parse(self, body: bytes) -> dict[str, Any]:
        return decode_envelope(body)

    def occurred_at(self, item: dict[str, Any]) -> datetime | None:
        """From the envelope's ISO 8601 string with offset; None if it is none (validation
        reports a bad timestamp already)."""
        occurred_at = item.get("occurred_at")
        if not isinstance(occurred_at, str):
            return None
        try:
            occurred = datetime.fromisoformat(occurred_at)
            # In UTC now: a year-1 time with an offset overflows there, not in the metric.
            return occurred.astimezone(UTC) if occurred.tzinfo is not None else None
        except (ValueError, OverflowError):
            return None


class EachEnvelope(Envelopes):
    """An EnvelopeHandler as a BatchHandler of its (single) messages."""

    def __init__(self, handler: EnvelopeHandler) -> None:
        self._handler = handler

    async def apply(self, batch: Batch[dict[str, Any]]) -> list[Outcome]:
        return [await self._handler(received.item) for received in batch.received]


class _Retry(Exception):
    """The fetch is redelivered after a backoff (transient failure, DLQ unreachable)."""


# A message as fetched, beside what it parsed into.
_Applicable = tuple[Record, Received[Item]]


class Subscription(Generic[Item]):
    """One consumer (a name, a group, its topics) running a service's handler on every message."""

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
        self, broker: KafkaBroker, topics: Sequence[str], group_id: str, **options: Any
    ) -> None:
        """`options` go to FastStream's subscriber (batch=True, max_records, … for batches)."""
        # MANUAL: this class acknowledges only after the effect committed or the DLQ accepted the
        # message. The parser and decoder below keep FastStream from failing on a message before
        # the handler sees it (a lost message, like an escaping exception).
        subscriber = broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.MANUAL,
            parser=_readable_headers,
            decoder=_raw_body,
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
        """End every message fetched in one outcome; only CancelledError (shutdown) escapes."""
        records = _records(message)
        try:
            outcomes = await self.process(records)
        except _Retry as retry:
            await self._retry(message, retry)
            return
        self._backoff.reset()
        try:
            await message.ack()
        except Exception as failure:
            # The effect or dead letter is committed already; if this offset commit is lost the
            # message is delivered again and the inbox sees a duplicate: never lost.
            log.warning("%s: offset commit failed (%s)", self.consumer, type(failure).__name__)
        self._observe(message, records, outcomes)

    async def process(self, records: Records) -> list[tuple[Outcome, datetime | None]]:
        """Parse, dead-letter and apply `records`; (outcome, occurred_at) of each, in order.
        Raises _Retry when they must come again."""
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

    def _parse(self, record: Record) -> "Received[Item] | DeadLetter":
        try:
            item = self._handler.parse(record.value or b"")
            return Received(item, self._handler.occurred_at(item))
        except InvalidEnvelope as invalid:
            return self._letter(record, str(invalid))
        except Unprocessable as verdict:
            return self._letter(record, verdict.reason)
        except Exception as error:  # a parser bug must not stop the partition: park the message
            log.error(
                "%s: unexpected %s parsing %s", self.consumer, type(error).__name__, _at(record)
            )
            return self._letter(record, f"unexpected failure: {type(error).__name__}")

    def _letter(self, record: Record, reason: str) -> DeadLetter:
        return DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            # Storable and bounded: a reason may quote the input (pydantic quotes a NUL as it
            # is), and reporting records every reason in PostgreSQL, which holds no NUL.
            error=bounded_text(reason, MAX_REASON_CHARS),
            consumer=self.consumer,
        )

    async def _send_to_dlq(self, letter: DeadLetter) -> None:
        try:
            await send_to_dlq(self._dead_letters, letter)
        except Exception as error:  # whatever failed, the message must not be acknowledged
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
        self, applicable: list[_Applicable[Item]], letters: list[DeadLetter]
    ) -> list[Outcome]:
        try:
            return list(await self._handler.apply(Batch([e for _, e in applicable], letters)))
        except Unprocessable as verdict:
            failure: Exception = verdict
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
        return await self._dead_letter_failing(applicable[0][0], failure)

    async def _dead_letter_failing(self, record: Record, failure: Exception) -> list[Outcome]:
        """The one message a handler fails on: parked with the reason, recorded as such."""
        if isinstance(failure, Unprocessable):
            reason = failure.reason
        else:
            # A message that crashes the handler would crash it again: park it, keep going. The
            # traceback's frames, not the exception's text: that may quote personal data (it
            # goes to the DLQ's error header, beside the message itself).
            log.error(
                "%s: unexpected %s at %s, dead-lettering; traceback:\n%s",
                self.consumer,
                type(failure).__name__,
                _at(record),
                "".join(traceback.format_tb(failure.__traceback__)),
            )
            reason = f"unexpected failure: {type(failure).__name__}: {failure}"
        letter = self._letter(record, reason)
        await self._send_to_dlq(letter)
        await self._apply([], [letter])
        return [Outcome.DEAD_LETTERED]

    async def _retry(self, message: KafkaMessage, retry: _Retry) -> None:
        metrics.CONSUMER_RETRIES.labels(self.consumer).inc()
        delay = self._backoff.next_delay()
        log.warning(
            "%s: transient %s at %s, redelivering in %.1f s",
            self.consumer,
            retry,
            ", ".join(_at(record) for record in _records(message)[:1]),
            delay,
        )
        await asyncio.sleep(delay)
        try:
            # Seek back: every partition to its first message of the fetch, order kept.
            await message.nack()
        except Exception as failure:
            # Only when the partition was revoked meanwhile: its new owner starts at the
            # committed offset, which is before these messages.
            log.warning("%s: nack failed (%s)", self.consumer, type(failure).__name__)

    def _observe(
        self,
        message: KafkaMessage,
        records: Records,
        outcomes: list[tuple[Outcome, datetime | None]],
    ) -> None:
        """Counts by outcome, the latency of the processed ones, each partition's lag."""
        last_of_partition: dict[tuple[str, int], Record] = {}
        latency = metrics.PROCESSING_LATENCY.labels(self.consumer)
        now = utc_now()
        for record, (outcome, occurred_at) in zip(records, outcomes, strict=True):
            if outcome is Outcome.PROCESSED and occurred_at is not None:
                latency.observe(max((now - occurred_at).total_seconds(), 0.0))
            last_of_partition[(record.topic, record.partition)] = record
        for outcome, count in Counter(outcome for outcome, _ in outcomes).items():
            metrics.CONSUMED.labels(self.consumer, outcome).inc(count)
        kafka_consumer = getattr(message, "consumer", None)
        for record in last_of_partition.values():
            observe_lag(self.consumer, kafka_consumer, record)


def subscribe(
    broker: KafkaBroker,
    topics: Sequence[str],
    *,
    consumer: str,
    group_id: str,
    handler: EnvelopeHandler,
    dead_letters: DeadLetterProducer,
    backoff: Backoff | None = None,
    **options: Any,
) -> Subscription[dict[str, Any]]:
    """Subscribe `handler` to `topics` as `consumer` (metrics label, DLQ header) in `group_id`,
    one message at a time; `options` go to the Kafka consumer
    (services.runtime.kafka.consumer_options)."""
    subscription = Subscription(consumer, EachEnvelope(handler), dead_letters, backoff)
    subscription.register(broker, topics, group_id, **options)
    return subscription


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
) -> Subscription[Item]:
    """As `subscribe`, with up to `max_records` messages of one fetch a transaction (waiting up
    to `batch_timeout_ms` for them)."""
    subscription = Subscription(consumer, handler, dead_letters, backoff)
    subscription.register(
        broker,
        topics,
        group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        **options,
    )
    return subscription


def observe_lag(consumer: str, kafka_consumer: object, record: Record) -> None:
    """The partition's lag behind its end, as seen at `record` (the last one processed)."""
    highwater = getattr(kafka_consumer, "highwater", None)
    if highwater is None:
        return
    end = highwater(TopicPartition(record.topic, record.partition))
    if end is not None:
        metrics.CONSUMER_LAG.labels(consumer, record.topic, str(record.partition)).set(
            max(end - record.offset - 1, 0)
        )


async def _readable_headers(
    fetched: Record | Sequence[Record], parse: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream's parser (of a record, or of a batch's records) on records whose header
    values are all UTF-8: it decodes them strictly, and a null or non-UTF-8 value (both legal in
    Kafka) would lose the message, or the whole batch."""
    if isinstance(fetched, ConsumerRecord):
        return await parse(_with_readable_headers(fetched))
    return await parse(tuple(_with_readable_headers(record) for record in fetched))


def _with_readable_headers(record: Record) -> Record:
    """The record with every header value UTF-8 (a null or invalid one replaced)."""
    readable = [(name, _readable(value)) for name, value in record.headers]
    if readable != list(record.headers):
        record = dataclasses.replace(record, headers=readable)
    return record


def _readable(value: bytes | None) -> bytes:
    return b"" if value is None else value.decode("utf-8", "replace").encode()


async def _raw_body(message: StreamMessage[Any]) -> Any:
    """The body (a batch's: the bodies) as bytes: the handler's parse decodes each (safely:
    FastStream's own json.loads raised RecursionError or ValueError on deep or huge input
    before the handler ran)."""
    return message.body


def _records(message: KafkaMessage) -> Records:
    """The records of a message: one, or a batch's."""
    raw: Record | Sequence[Record] = message.raw_message  # type: ignore[assignment]
    return (raw,) if isinstance(raw, ConsumerRecord) else tuple(raw)


def _at(record: Record) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"
