"""Dead-letter publishing: a message that can never succeed is parked with the reason why."""

from dataclasses import dataclass
from typing import Protocol

from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError

from schemas.topics import DLQ_SUFFIX
from services.runtime.bounded import bounded_utf8

MAX_ERROR_HEADER_BYTES = 1000
# A dead letter's reason as kept (the header is cut to its bytes again).
MAX_REASON_CHARS = 1000

Headers = list[tuple[str, bytes]]


class DeadLetterProducer(Protocol):
    """What dead-lettering needs of a producer (aiokafka's AIOKafkaProducer is one)."""

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, *, headers: Headers
    ) -> object: ...


@dataclass(frozen=True)
class DeadLetter:
    """A consumed message, where it came from, and why it can never succeed."""

    source_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    error: str
    consumer: str

    @property
    def topic(self) -> str:
        """`<source topic>.dlq`: every consumed topic has its own dead-letter topic."""
        return f"{self.source_topic}{DLQ_SUFFIX}"

    def headers(self) -> Headers:
        return [
            ("error", bounded_utf8(self.error, MAX_ERROR_HEADER_BYTES)),
            ("source-topic", self.source_topic.encode()),
            ("source-partition", str(self.partition).encode()),
            ("source-offset", str(self.offset).encode()),
            ("consumer", self.consumer.encode()),
        ]


async def send_to_dlq(producer: DeadLetterProducer, letter: DeadLetter) -> None:
    """Publish the original key and value with the reason; returns once the broker has it."""
    headers = letter.headers()
    try:
        await producer.send_and_wait(
            letter.topic, _sendable(letter.value, letter.key), letter.key, headers=headers
        )
    except (MessageSizeTooLargeError, RecordTooLargeError):
        # The original plus our headers is over the size limit: retrying would block the
        # partition for good. Park the reason alone; the original stays at source-offset.
        size = len(letter.value or b"")
        omitted = [*headers, ("value-omitted", f"{size} bytes, over the size limit".encode())]
        await producer.send_and_wait(
            letter.topic, _sendable(None, letter.key), letter.key, headers=omitted
        )


def _sendable(value: bytes | None, key: bytes | None) -> bytes | None:
    """A record of neither key nor value is legal in Kafka (an empty message without a key
    reads back as both null), but aiokafka refuses to send one: such a letter carries an empty
    value instead, or its partition would retry it for good (found by tests/fuzz)."""
    return b"" if value is None and key is None else value
