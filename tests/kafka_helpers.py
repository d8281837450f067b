"""Plain aiokafka produce and consume for tests: no consumer group, read from the beginning; and
the topic configs a broker reports."""

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType


@dataclass(frozen=True)
class ConsumedMessage:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: Any


Stop = int | Callable[[ConsumedMessage], bool]


def _decode(record: Any) -> ConsumedMessage:
    return ConsumedMessage(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode() if record.key is not None else None,
        headers={name: value.decode() for name, value in record.headers},
        value=_value(record.value),
    )


def _value(raw: bytes | None) -> Any:
    """The decoded JSON value; bytes that are not JSON (dead letters) stay bytes."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # dead letters include JSON nested too deeply to decode
        return raw


def _done(got: list[ConsumedMessage], stop: Stop) -> bool:
    if isinstance(stop, int):
        return len(got) >= stop
    return any(stop(message) for message in got)


async def _assigned_consumer(bootstrap: str, topic: str, deadline: float) -> AIOKafkaConsumer:
    """A started consumer assigned to every partition of `topic`, at the beginning."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,  # Tansu answers a waiting fetch only when this runs out
        # The topic may be created a moment later: metadata is refreshed this often meanwhile.
        metadata_max_age_ms=200,
    )
    await consumer.start()
    while not (partitions := consumer.partitions_for_topic(topic)):
        if time.monotonic() > deadline:
            await consumer.stop()
            raise AssertionError(f"topic {topic} does not exist")
        await asyncio.sleep(0.05)  # polling interval while the topic is created
    consumer.assign([TopicPartition(topic, partition) for partition in sorted(partitions)])
    await consumer.seek_to_beginning()
    return consumer


async def consume_until(
    bootstrap: str, topic: str, stop: Stop, timeout: float = 10.0
) -> list[ConsumedMessage]:
    """Every message of `topic` from the beginning until `stop` (a count, or a predicate that
    one message satisfies) is reached; AssertionError listing what arrived on timeout."""
    deadline = time.monotonic() + timeout
    consumer = await _assigned_consumer(bootstrap, topic, deadline)
    got: list[ConsumedMessage] = []
    try:
        while not _done(got, stop):
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: no {stop} after {timeout}s; got {got}")
            batches = await consumer.getmany(timeout_ms=100)
            got.extend(_decode(record) for records in batches.values() for record in records)
    finally:
        await consumer.stop()
    return got


async def produce(
    bootstrap: str,
    topic: str,
    value: bytes | dict[str, Any],
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send one message and wait for the broker's acknowledgement."""
    payload = value if isinstance(value, bytes) else json.dumps(value).encode()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            payload,
            key=key.encode() if key is not None else None,
            headers=[(name, text.encode()) for name, text in (headers or {}).items()],
        )
    finally:
        await producer.stop()


async def read_to_end(bootstrap: str, topic: str, timeout: float = 10.0) -> list[ConsumedMessage]:
    """Every message of `topic` up to the end offsets as of the call (for counting duplicates)."""
    deadline = time.monotonic() + timeout
    consumer = await _assigned_consumer(bootstrap, topic, deadline)
    got: list[ConsumedMessage] = []
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: end offsets {ends} not reached in {timeout}s")
            batches = await consumer.getmany(timeout_ms=100)
            got.extend(_decode(record) for records in batches.values() for record in records)
    finally:
        await consumer.stop()
    return got


async def topic_configs(
    admin: AIOKafkaAdminClient, topics: Sequence[str]
) -> dict[str, dict[str, str]]:
    """Each topic's configuration as the broker reports it (DescribeConfigs: name → value)."""
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic) for topic in topics]
    )
    found = {}
    for response in responses:
        for code, message, _type, topic, entries in response.resources:
            assert code == 0, (topic, code, message)
            found[topic] = {entry[0]: entry[1] for entry in entries}
    return found
