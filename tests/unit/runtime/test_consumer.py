"""The consumer wrapper on FastStream's in-memory broker: every message ends in exactly one of
effect (ack), dead letter (DLQ, then ack) or retry (nack, no ack); none is skipped. One message
at a time and in batches alike."""

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from aiokafka.errors import MessageSizeTooLargeError
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.message import KafkaAckableMessage
from prometheus_client import REGISTRY

from schemas.envelope import decode_envelope
from services.runtime.backoff import Backoff
from services.runtime.consumer import (
    Batch,
    Outcome,
    Unprocessable,
    subscribe,
    subscribe_batches,
)
from services.runtime.deadletter import MAX_ERROR_HEADER_BYTES
from tests.unit.runtime.recording_producer import RecordingProducer

TOPIC = "unit.things"
ENVELOPE = {
    "event_id": "5d0a3c1e-4a56-4f0c-9c2c-0d8b2a8f4e11",
    "type": "thing.happened",
    "version": 1,
    "occurred_at": "2026-05-04T10:00:00+00:00",
    "producer": "unit",
    "data": {},
}
VALID = json.dumps(ENVELOPE).encode()


@dataclass
class Acknowledgements:
    """What the wrapper told FastStream about each delivered message."""

    calls: list[str] = field(default_factory=list)


@pytest.fixture
def acks(monkeypatch: pytest.MonkeyPatch) -> Acknowledgements:
    recorded = Acknowledgements()
    ack, nack = KafkaAckableMessage.ack, KafkaAckableMessage.nack

    async def recording_ack(message: KafkaAckableMessage) -> None:
        recorded.calls.append("ack")
        await ack(message)

    async def recording_nack(message: KafkaAckableMessage) -> None:
        recorded.calls.append("nack")
        await nack(message)

    monkeypatch.setattr(KafkaAckableMessage, "ack", recording_ack)
    monkeypatch.setattr(KafkaAckableMessage, "nack", recording_nack)
    return recorded


class Handler:
    """A service handler that answers with `outcome`, or raises the next of `errors` first."""

    def __init__(self, *errors: BaseException, outcome: Outcome = Outcome.PROCESSED) -> None:
        self.seen: list[dict[str, Any]] = []
        self._errors = list(errors)
        self._outcome = outcome

    async def __call__(self, envelope: dict[str, Any]) -> Outcome:
        self.seen.append(envelope)
        if self._errors:
            raise self._errors.pop(0)
        return self._outcome


@dataclass
class Harness:
    consumer: str
    broker: KafkaBroker
    producer: RecordingProducer

    def count(self, outcome: str) -> float:
        labels = {"consumer": self.consumer, "outcome": outcome}
        return REGISTRY.get_sample_value("dialognet_consumer_messages_total", labels) or 0.0

    def retries(self) -> float:
        labels = {"consumer": self.consumer}
        return REGISTRY.get_sample_value("dialognet_consumer_retries_total", labels) or 0.0


def _harness(
    handler: "Handler | BatchRecorder", producer: RecordingProducer | None = None
) -> Harness:
    """`handler` subscribed through the wrapper: one message at a time, or a batch handler."""
    consumer = f"unit-{secrets.token_hex(4)}"  # own metric labels per test
    broker = KafkaBroker("localhost:9092")
    producer = producer or RecordingProducer()
    common: dict[str, Any] = {
        "consumer": consumer,
        "group_id": "unit",
        "dead_letters": producer,
        "backoff": Backoff(initial_seconds=0.001),
    }
    if isinstance(handler, BatchRecorder):
        subscribe_batches(
            broker, [TOPIC], handler=handler, max_records=100, batch_timeout_ms=10, **common
        )
    else:
        subscribe(broker, [TOPIC], handler=handler, **common)
    return Harness(consumer, broker, producer)


async def _deliver(harness: Harness, body: bytes, key: bytes = b"thing-1") -> None:
    async with TestKafkaBroker(harness.broker) as broker:
        await broker.publish(body, TOPIC, key=key)


async def test_a_handled_message_is_acknowledged_and_counted(acks: Acknowledgements) -> None:
    handler = Handler(outcome=Outcome.REJECTED)
    harness = _harness(handler)

    await _deliver(harness, VALID)

    assert handler.seen == [ENVELOPE]
    assert acks.calls == ["ack"]
    assert harness.count("rejected") == 1
    assert harness.producer.sent == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x00 not json", "not JSON"),
        (b"[" * 1000 + b"]" * 1000, "not JSON: nested too deeply"),
        (b'{"event_id": ' + b"7" * 5000 + b"}", "not JSON: a number with more than 4300 digits"),
        (b'{"type": "\xff"}', "not JSON: not UTF-8"),
        (b'{"event_id": 1}', "missing envelope fields: type, version"),
    ],
)
async def test_what_is_no_envelope_is_dead_lettered_then_acknowledged(
    acks: Acknowledgements, body: bytes, reason: str
) -> None:
    handler = Handler()
    harness = _harness(handler)

    await _deliver(harness, body)

    [dead] = harness.producer.sent
    assert dead["topic"] == f"{TOPIC}.dlq"
    assert dead["value"] == body
    assert dead["key"] == b"thing-1"
    assert dead["headers"]["error"].decode().startswith(reason)
    assert dead["headers"]["source-topic"] == TOPIC.encode()
    assert dead["headers"]["source-partition"] == b"0"
    assert dead["headers"]["source-offset"] == b"0"
    assert dead["headers"]["consumer"] == harness.consumer.encode()
    assert handler.seen == []
    assert acks.calls == ["ack"]
    assert harness.count("dead_lettered") == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RuntimeError("bug"), "unexpected failure: RuntimeError: bug"),
        (RecursionError("too deep"), "unexpected failure: RecursionError: too deep"),
        (ValueError("no int"), "unexpected failure: ValueError: no int"),
        (Unprocessable("the forum was erased"), "the forum was erased"),
        # As pydantic quotes an id it refuses; PostgreSQL (reporting records it) holds no NUL.
        (Unprocessable("event_id: found `\x00` at 0"), "event_id: found `?` at 0"),
    ],
)
async def test_a_message_the_handler_cannot_process_is_dead_lettered_not_skipped(
    acks: Acknowledgements, error: Exception, reason: str
) -> None:
    harness = _harness(Handler(error))

    await _deliver(harness, VALID)

    [dead] = harness.producer.sent
    assert dead["value"] == VALID
    assert dead["headers"]["error"].decode() == reason
    assert acks.calls == ["ack"]
    assert harness.count("dead_lettered") == 1


async def test_a_failed_dead_letter_publish_is_retried_never_acknowledged(
    acks: Acknowledgements,
) -> None:
    harness = _harness(Handler(), RecordingProducer(failures=1))

    await _deliver(harness, b"not json")
    assert harness.producer.sent == []
    assert acks.calls == ["nack"]  # seek back: the broker delivers it again
    assert harness.retries() == 1

    await _deliver(harness, b"not json")  # the redelivery
    [dead] = harness.producer.sent
    assert dead["value"] == b"not json"
    assert acks.calls == ["nack", "ack"]
    assert harness.count("dead_lettered") == 1


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        TimeoutError(),
    ],
)
async def test_a_transient_failure_is_nacked_and_processed_when_redelivered(
    acks: Acknowledgements, error: Exception
) -> None:
    handler = Handler(error)
    harness = _harness(handler)

    await _deliver(harness, VALID)
    assert acks.calls == ["nack"]
    assert harness.retries() == 1
    assert harness.count("processed") == 0

    await _deliver(harness, VALID)  # the redelivery
    assert acks.calls == ["nack", "ack"]
    assert harness.count("processed") == 1
    assert len(handler.seen) == 2
    assert harness.producer.sent == []


async def test_shutdown_leaves_the_message_unacknowledged(acks: Acknowledgements) -> None:
    harness = _harness(Handler(asyncio.CancelledError()))

    with pytest.raises(asyncio.CancelledError):
        await _deliver(harness, VALID)

    assert acks.calls == []
    assert harness.producer.sent == []


async def test_the_error_header_is_bounded_and_still_utf8(acks: Acknowledgements) -> None:
    harness = _harness(Handler(Unprocessable("€" * 5000)))

    await _deliver(harness, VALID)

    error = harness.producer.sent[0]["headers"]["error"]
    assert len(error) <= MAX_ERROR_HEADER_BYTES
    assert error.decode("utf-8").endswith("€…")  # cut between characters, never inside one


async def test_a_value_too_large_for_the_dead_letter_topic_is_parked_without_it(
    acks: Acknowledgements,
) -> None:
    too_large = RecordingProducer(failures=1, error=MessageSizeTooLargeError())
    harness = _harness(Handler(Unprocessable("no")), too_large)

    await _deliver(harness, VALID)

    [dead] = harness.producer.sent
    assert dead["value"] is None
    assert dead["headers"]["value-omitted"] == f"{len(VALID)} bytes, over the size limit".encode()
    assert dead["headers"]["source-offset"] == b"0"
    assert acks.calls == ["ack"]


class BatchRecorder:
    """A batch handler that records each batch it applies and answers PROCESSED for each; it
    fails the next of `errors` first, or fails for good every batch holding `poison`."""

    def __init__(self, *errors: BaseException, poison: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.dead_letters: list[list[str]] = []
        self._errors = list(errors)
        self._poison = poison

    def parse(self, body: bytes) -> str:
        envelope = decode_envelope(body)
        if envelope["type"] == "thing.unreadable":
            raise Unprocessable("no such thing")
        return str(envelope["event_id"])

    def occurred_at(self, item: str) -> datetime | None:
        return None

    async def apply(self, batch: Batch[str]) -> list[Outcome]:
        items = [received.item for received in batch.received]
        if self._errors:
            raise self._errors.pop(0)
        if self._poison in items:
            raise RuntimeError("bug") if len(items) > 1 else Unprocessable("poisoned")
        self.batches.append(items)
        self.dead_letters.append([letter.error for letter in batch.dead_letters])
        return [Outcome.PROCESSED] * len(items)


def _event(number: int, kind: str = "thing.happened") -> bytes:
    return json.dumps({**ENVELOPE, "event_id": f"event-{number}", "type": kind}).encode()


async def _deliver_batch(harness: Harness, *bodies: bytes) -> None:
    async with TestKafkaBroker(harness.broker) as broker:
        await broker.publish_batch(*bodies, topic=TOPIC)


async def test_a_batch_is_applied_at_once_and_what_it_cannot_parse_is_dead_lettered(
    acks: Acknowledgements,
) -> None:
    handler = BatchRecorder()
    harness = _harness(handler)

    await _deliver_batch(harness, _event(1), b"not json", _event(2), _event(3, "thing.unreadable"))

    assert handler.batches == [["event-1", "event-2"]]
    assert [reason[:8] for reason in handler.dead_letters[0]] == ["not JSON", "no such "]
    assert [dead["value"] for dead in harness.producer.sent] == [
        b"not json",
        _event(3, "thing.unreadable"),
    ]
    assert acks.calls == ["ack"]
    assert (harness.count("processed"), harness.count("dead_lettered")) == (2, 2)


async def test_the_one_message_a_batch_fails_on_is_found_and_dead_lettered(
    acks: Acknowledgements,
) -> None:
    handler = BatchRecorder(poison="event-2")
    harness = _harness(handler)

    await _deliver_batch(harness, _event(1), _event(2), _event(3))

    # One at a time; the dead letter is recorded in a transaction of its own.
    assert handler.batches == [["event-1"], [], ["event-3"]]
    assert handler.dead_letters[1] == ["poisoned"]
    [dead] = harness.producer.sent
    assert dead["value"] == _event(2)
    assert dead["headers"]["error"] == b"poisoned"  # the handler's verdict on it alone
    assert acks.calls == ["ack"]
    assert (harness.count("processed"), harness.count("dead_lettered")) == (2, 1)


async def test_an_unexpected_failure_of_one_message_is_dead_lettered_with_its_reason(
    acks: Acknowledgements,
) -> None:
    handler = BatchRecorder(ValueError("no int"))
    harness = _harness(handler)

    await _deliver_batch(harness, _event(1))

    [dead] = harness.producer.sent
    assert dead["headers"]["error"] == b"unexpected failure: ValueError: no int"
    assert handler.batches == [[]]  # the dead letter recorded, in a transaction of its own
    assert acks.calls == ["ack"]


async def test_a_transient_failure_redelivers_the_whole_batch(acks: Acknowledgements) -> None:
    handler = BatchRecorder(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    harness = _harness(handler)

    await _deliver_batch(harness, _event(1), _event(2))
    assert acks.calls == ["nack"]
    assert harness.retries() == 1
    assert handler.batches == []

    await _deliver_batch(harness, _event(1), _event(2))  # the redelivery
    assert handler.batches == [["event-1", "event-2"]]
    assert acks.calls == ["nack", "ack"]
    assert harness.producer.sent == []
