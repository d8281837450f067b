"""The consumer wrapper every service subscribes with: each message ends in exactly one outcome.

Effect (processed, duplicate, rejected → ack), dead letter (→ `<topic>.dlq`, then ack), or retry
(not acked: redelivered after a backoff, per-partition order kept). Nothing is skipped.

Why a wrapper: under FastStream's MANUAL ack an exception escaping the handler is logged and
swallowed, and the next message's ack commits the consumer's position past it: the message is
lost. So the handler here never lets one escape, except `asyncio.CancelledError` (shutdown),
which leaves the message unacknowledged for the next owner of its partition.
"""

import asyncio
import dataclasses
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.message import StreamMessage

from schemas.envelope import InvalidEnvelope, decode_envelope, utc_now
from services.runtime import metrics
from services.runtime.deadletter import DeadLetter, DeadLetterProducer, send_to_dlq
from services.runtime.transient import is_transient

log = logging.getLogger(__name__)

INITIAL_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 30.0


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


# A service's handler: takes the decoded envelope (a JSON object with the envelope fields),
# returns how it ended, or raises Unprocessable; any other exception is transient or a dead letter.
EnvelopeHandler = Callable[[dict[str, Any]], Awaitable[Outcome]]


class Backoff:
    """Exponential delay between redeliveries of a transiently failing message."""

    def __init__(
        self, initial_seconds: float = INITIAL_DELAY_SECONDS, max_seconds: float = MAX_DELAY_SECONDS
    ) -> None:
        self._initial = initial_seconds
        self._max = max_seconds
        self._delay = initial_seconds

    def next_delay(self) -> float:
        delay = self._delay
        self._delay = min(self._delay * 2, self._max)
        return delay

    def reset(self) -> None:
        self._delay = self._initial


@dataclasses.dataclass(frozen=True)
class _Handled:
    outcome: Outcome
    occurred_at: object


@dataclasses.dataclass(frozen=True)
class _DeadLetterFor:
    reason: str


@dataclasses.dataclass(frozen=True)
class _Retry:
    error: Exception


class Subscription:
    """One consumer (a name, a group, its topics) running a service's handler on every message."""

    def __init__(
        self,
        consumer: str,
        handler: EnvelopeHandler,
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
        """End `message` in exactly one outcome; only CancelledError (shutdown) escapes."""
        verdict = await self._judge(message)
        if isinstance(verdict, _DeadLetterFor):
            verdict = await self._dead_letter(message, verdict.reason)
        if isinstance(verdict, _Retry):
            await self._retry(message, verdict.error)
        else:
            await self._acknowledge(message, verdict)

    async def _judge(self, message: KafkaMessage) -> _Handled | _DeadLetterFor | _Retry:
        try:
            envelope = decode_envelope(message.body)
            return _Handled(await self._handler(envelope), envelope.get("occurred_at"))
        except InvalidEnvelope as invalid:
            return _DeadLetterFor(str(invalid))
        except Unprocessable as verdict:
            return _DeadLetterFor(verdict.reason)
        except Exception as error:
            if is_transient(error):
                return _Retry(error)
            # A message that crashes the handler would crash it again: park it, keep going.
            # The traceback's frames, not the exception's text: that may quote personal data
            # (it goes to the DLQ's error header, beside the message itself).
            log.error(
                "%s: unexpected %s at %s, dead-lettering; traceback:\n%s",
                self.consumer,
                type(error).__name__,
                _position(message),
                "".join(traceback.format_tb(error.__traceback__)),
            )
            return _DeadLetterFor(f"unexpected failure: {_describe(error)}")

    async def _dead_letter(self, message: KafkaMessage, reason: str) -> _Handled | _Retry:
        record = _record(message)
        letter = DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            error=reason,
            consumer=self.consumer,
        )
        try:
            await send_to_dlq(self._dead_letters, letter)
        except Exception as error:  # whatever failed, the message must not be acknowledged
            return _Retry(error)
        log.warning("%s: dead-lettered %s to %s", self.consumer, _position(message), letter.topic)
        return _Handled(Outcome.DEAD_LETTERED, None)

    async def _retry(self, message: KafkaMessage, error: Exception) -> None:
        metrics.CONSUMER_RETRIES.labels(self.consumer).inc()
        delay = self._backoff.next_delay()
        log.warning(
            "%s: transient %s at %s, redelivering in %.1f s",
            self.consumer,
            type(error).__name__,
            _position(message),
            delay,
        )
        await asyncio.sleep(delay)
        try:
            await message.nack()  # seek back: the same message comes again, order kept
        except Exception as failure:
            # Only when the partition was revoked meanwhile: its new owner starts at the
            # committed offset, which is before this message.
            log.warning("%s: nack failed (%s)", self.consumer, type(failure).__name__)

    async def _acknowledge(self, message: KafkaMessage, handled: _Handled) -> None:
        self._backoff.reset()
        try:
            await message.ack()
        except Exception as failure:
            # The effect or dead letter is committed already; if this offset commit is lost the
            # message is delivered again and the inbox sees a duplicate: never lost.
            log.warning("%s: offset commit failed (%s)", self.consumer, type(failure).__name__)
        metrics.CONSUMED.labels(self.consumer, handled.outcome).inc()
        observe_processed(self.consumer, message, handled.occurred_at)


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
) -> Subscription:
    """Subscribe `handler` to `topics` as `consumer` (metrics label, DLQ header) in `group_id`;
    `options` go to the Kafka consumer (services.runtime.kafka.consumer_options)."""
    subscription = Subscription(consumer, handler, dead_letters, backoff)
    subscription.register(broker, topics, group_id, **options)
    return subscription


def observe_processed(consumer: str, message: Any, occurred_at: object) -> None:
    """Latency from the event's occurred_at, and the partition's lag behind its end."""
    observe_latency(consumer, occurred_at)
    record = message.raw_message
    observe_lag(consumer, getattr(message, "consumer", None), record)


def observe_latency(consumer: str, occurred_at: object) -> None:
    """From the event's occurred_at (an ISO 8601 string with offset) to now."""
    if isinstance(occurred_at, str):
        try:
            occurred = datetime.fromisoformat(occurred_at)
            if occurred.tzinfo is not None:
                latency = (utc_now() - occurred).total_seconds()
                metrics.PROCESSING_LATENCY.labels(consumer).observe(max(latency, 0.0))
        except (ValueError, OverflowError):
            pass  # a bad timestamp was already reported by validation


def observe_lag(consumer: str, kafka_consumer: object, record: Any) -> None:
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
    record: ConsumerRecord[bytes, bytes],
    parse: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's parser, on a record whose header values are all UTF-8: it decodes them
    strictly, and a null or non-UTF-8 value (both legal in Kafka) would lose the message."""
    return await parse(with_readable_headers(record))


def with_readable_headers(record: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    """The record with every header value UTF-8 (a null or invalid one replaced)."""
    readable = [(name, _readable(value)) for name, value in record.headers]
    if readable != list(record.headers):
        record = dataclasses.replace(record, headers=readable)
    return record


def _readable(value: bytes | None) -> bytes:
    return b"" if value is None else value.decode("utf-8", "replace").encode()


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    """The body as bytes: decode_envelope decodes it (FastStream's own json.loads raised
    RecursionError or ValueError on deep or huge input before the handler ran)."""
    body: bytes = message.body
    return body


def _record(message: KafkaMessage) -> ConsumerRecord[bytes, bytes]:
    record: ConsumerRecord[bytes, bytes] = message.raw_message  # type: ignore[assignment]
    return record


def _position(message: KafkaMessage) -> str:
    record = _record(message)
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
