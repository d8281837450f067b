"""What the code promises each consumer does with a bad message, and reading what it did: the
dead letters (by their source coordinates) and the intake's rejections (by command id)."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from schemas.topics import Topic
from services.notification.facts import HANDLED_TYPES
from services.registration.intake import MAX_ECHOED_CHARS
from services.runtime.bounded import bounded_text
from services.runtime.inbox import kept_id
from tests.fuzz.bad_messages import ENVELOPE_KINDS, BadMessage

# The consumers of each topic, by the name they give in a dead letter's `consumer` header.
CONSUMERS: dict[Topic, tuple[str, ...]] = {
    Topic.INTAKE: ("registration-intake",),
    Topic.ORGANIZATIONS: ("notification", "reporting"),
    Topic.FORUMS: ("notification", "reporting"),
    Topic.REGISTRATIONS: ("notification", "reporting"),
    Topic.NOTIFICATIONS: ("reporting",),
}


class Verdict(StrEnum):
    DEAD_LETTER = "dead letter"
    REJECTED = "intake.rejected"  # the intake's answer to a command that breaks a rule
    IGNORED = "ignored"  # notification: a type it does not act on (a newer producer's)


def verdict(message: BadMessage, consumer: str) -> Verdict:
    """What `consumer` must do with `message`, as its module says (services/*/intake.py,
    facts.py, projection/facts.py)."""
    if message.envelope is None or message.kind not in ENVELOPE_KINDS:
        return Verdict.DEAD_LETTER
    if consumer == "registration-intake":
        return Verdict.REJECTED
    kind = message.envelope["type"]
    if consumer == "notification" and not (isinstance(kind, str) and kind in HANDLED_TYPES):
        return Verdict.IGNORED
    return Verdict.DEAD_LETTER


def echoed_id(message: BadMessage) -> str:
    """The command id an `intake.rejected` fact of `message` names."""
    assert message.envelope is not None
    return bounded_text(message.envelope["event_id"], MAX_ECHOED_CHARS)


def inbox_key(message: BadMessage) -> str:
    """What the intake's inbox keeps of the command's id (services/registration/intake.py)."""
    assert message.envelope is not None
    return kept_id(str(message.envelope["event_id"]))


READ_STEP_BYTES = 32_000_000
Coordinates = tuple[str, int, int]  # topic, partition, offset
Record = ConsumerRecord[bytes, bytes]
# Whether what was read so far (records by topic) is all that is waited for.
Enough = Callable[[dict[str, list[Record]]], bool]


@dataclass(frozen=True)
class Letter:
    consumer: str
    source: Coordinates
    error: str
    key: bytes | None
    value: bytes | None
    value_omitted: bool


def letter_of(record: Record) -> Letter:
    headers = {name: (value or b"").decode() for name, value in record.headers}
    source = (
        headers["source-topic"],
        int(headers["source-partition"]),
        int(headers["source-offset"]),
    )
    return Letter(
        consumer=headers["consumer"],
        source=source,
        error=headers.get("error", ""),
        key=record.key,
        value=record.value,
        value_omitted="value-omitted" in headers,
    )


class TopicReader:
    """Reads topics from their beginning on, keeping every record, until told enough or to
    where they ended."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self.records: dict[str, list[Record]] = {t: [] for t in topics}
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> "TopicReader":
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,  # Tansu answers a waiting fetch only when this runs out
            # The letters carry the originals (up to 1 MB each), all in one partition a topic: in
            # steps of 2 MB the full size (some GB) had not been read back after 9 minutes.
            max_partition_fetch_bytes=READ_STEP_BYTES,
            fetch_max_bytes=5 * READ_STEP_BYTES,
        )
        await consumer.start()
        await consumer.topics()  # the services created them at start-up
        consumer.assign(
            [
                TopicPartition(topic, partition)
                for topic in self._topics
                for partition in consumer.partitions_for_topic(topic) or ()
            ]
        )
        await consumer.seek_to_beginning()
        self._consumer = consumer
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def end_offsets(self) -> dict[TopicPartition, int]:
        """Where every partition read ends now: what a reader that reaches them has all of."""
        assert self._consumer is not None
        return dict(await self._consumer.end_offsets(list(self._consumer.assignment())))

    async def read_until(
        self, enough: Enough, timeout: float, ends: dict[TopicPartition, int] | None = None
    ) -> bool:
        """Read until `enough` holds and every partition is read to its offset in `ends`, or
        `timeout`; whether it got there (the caller asserts on what was read)."""
        assert self._consumer is not None
        deadline = time.monotonic() + timeout
        while True:
            if enough(self.records) and await self._reached(ends or {}):
                return True
            if time.monotonic() > deadline:
                return False
            fetched = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for partition, records in fetched.items():
                self.records[partition.topic].extend(records)
            await asyncio.sleep(0)

    async def _reached(self, ends: dict[TopicPartition, int]) -> bool:
        assert self._consumer is not None
        for partition, end in ends.items():
            if await self._consumer.position(partition) < end:
                return False
        return True
