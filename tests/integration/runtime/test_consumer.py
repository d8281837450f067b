"""The consumer wrapper over the real broker: a transient failure or a failed dead-letter publish
is redelivered in order and ends processed or dead-lettered, and the group's offset moves past a
message only then; readiness follows the consume loop."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from schemas.topics import Topic, topic_name
from services.runtime import kafka, kafka_topics
from services.runtime.backoff import Backoff
from services.runtime.consumer import EnvelopeHandler, Outcome, Subscription, subscribe
from services.runtime.deadletter import DeadLetterProducer, Headers
from services.runtime.settings import Settings
from tests.conftest import Infra
from tests.integration.registration.intake_commands import command
from tests.kafka_helpers import consume_until, produce
from tests.polling import until

KEY = "one-partition"  # every message of a test on one partition, so they are consumed in order


@pytest.fixture
async def kafka_settings(infra: Infra, topic_prefix: str) -> Settings:
    settings = Settings(
        kafka_bootstrap=infra.kafka_bootstrap,
        topic_prefix=topic_prefix,
        kafka_session_timeout_ms=2000,
        kafka_consumer_group_prefix=f"{topic_prefix}dialognet-",
    )
    await kafka_topics.ensure_topics(settings)
    return settings


def _topic(settings: Settings) -> str:
    return topic_name(Topic.FORUMS, settings.topic_prefix)


def _group(settings: Settings) -> str:
    return f"{settings.kafka_consumer_group_prefix}wrapper-test"


@contextlib.asynccontextmanager
async def _running(
    settings: Settings, handler: EnvelopeHandler, dead_letters: DeadLetterProducer
) -> AsyncIterator[Subscription]:
    broker = KafkaBroker(settings.bootstrap())
    subscription = subscribe(
        broker,
        [_topic(settings)],
        consumer=f"{settings.topic_prefix}wrapper-test",
        group_id=_group(settings),
        handler=handler,
        dead_letters=dead_letters,
        backoff=Backoff(initial_seconds=0.01),
        **kafka.consumer_options(settings),
    )
    await broker.start()
    try:
        yield subscription
    finally:
        await broker.stop()


@contextlib.asynccontextmanager
async def _producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    producer = kafka.new_producer(settings)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def _committed(settings: Settings) -> int:
    """The group's committed offset on the partition the test's messages went to (0: none)."""
    first, *_ = await consume_until(settings.bootstrap(), _topic(settings), 1)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap(), group_id=_group(settings))
    await consumer.start()
    try:
        offset = await consumer.committed(TopicPartition(_topic(settings), first.partition))
    finally:
        await consumer.stop()
    return offset or 0


class FlakyHandler:
    """Fails the first `failures` deliveries of the message `flaky` transiently, then processes."""

    def __init__(self, flaky: str, failures: int) -> None:
        self.seen: list[str] = []
        self._flaky = flaky
        self._failures = failures

    async def __call__(self, envelope: dict[str, Any]) -> Outcome:
        self.seen.append(envelope["event_id"])
        if envelope["event_id"] == self._flaky and self._failures:
            self._failures -= 1
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        return Outcome.PROCESSED


def _retries(settings: Settings) -> float:
    labels = {"consumer": f"{settings.topic_prefix}wrapper-test"}
    return REGISTRY.get_sample_value("dialognet_consumer_retries_total", labels) or 0.0


async def test_a_transient_failure_is_redelivered_in_order_and_processed_once(
    kafka_settings: Settings,
) -> None:
    first, second = command("thing", {}), command("thing", {})
    handler = FlakyHandler(first["event_id"], failures=2)
    for message in (first, second):
        await produce(kafka_settings.bootstrap(), _topic(kafka_settings), message, key=KEY)

    async with _producer(kafka_settings) as producer, _running(kafka_settings, handler, producer):
        await until(lambda: _is_committed(kafka_settings, 2), 20, "both offsets committed")

    # Redelivered twice by seeking back, and the second message never overtook the first.
    assert handler.seen == [first["event_id"]] * 3 + [second["event_id"]]
    assert _retries(kafka_settings) == 2


async def _is_committed(settings: Settings, offset: int) -> bool:
    return await _committed(settings) >= offset


class FailingOnceProducer:
    """The real producer, but the first dead-letter publish fails as if the broker were gone."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self.failed = False

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, *, headers: Headers
    ) -> object:
        if not self.failed:
            self.failed = True
            raise KafkaConnectionError("broker gone")
        return await self._producer.send_and_wait(topic, value, key, headers=headers)


async def test_a_failed_dead_letter_publish_is_retried_and_the_message_dead_lettered(
    kafka_settings: Settings,
) -> None:
    valid = command("thing", {})
    handler = FlakyHandler("", failures=0)
    for message in (b"not json", valid):
        await produce(kafka_settings.bootstrap(), _topic(kafka_settings), message, key=KEY)

    async with _producer(kafka_settings) as producer:
        failing_once = FailingOnceProducer(producer)
        async with _running(kafka_settings, handler, failing_once):
            await until(lambda: _is_committed(kafka_settings, 2), 20, "both offsets committed")

    assert failing_once.failed
    [dead] = await consume_until(kafka_settings.bootstrap(), f"{_topic(kafka_settings)}.dlq", 1)
    assert dead.value == b"not json"
    assert dead.key == KEY
    assert dead.headers["error"].startswith("not JSON")
    assert dead.headers["source-offset"] == "0"
    assert handler.seen == [valid["event_id"]]
    assert _retries(kafka_settings) == 1


async def test_readiness_fails_when_the_consume_loop_is_gone(kafka_settings: Settings) -> None:
    async def cancelled(envelope: dict[str, Any]) -> Outcome:
        raise asyncio.CancelledError  # what a shutdown does; here the loop ends for good

    async with _producer(kafka_settings) as producer:
        async with _running(kafka_settings, cancelled, producer) as subscription:
            await subscription.ready()
            body = json.dumps(command("thing", {})).encode()
            await produce(kafka_settings.bootstrap(), _topic(kafka_settings), body, key=KEY)

            await until(lambda: _not_ready(subscription), 20, "readiness fails")

        assert await _committed(kafka_settings) == 0  # left unacknowledged, not skipped
        with pytest.raises(ConnectionError, match="not running"):
            await subscription.ready()


async def _not_ready(subscription: Subscription) -> bool:
    try:
        await subscription.ready()
    except ConnectionError as refused:
        return "no live consume loop" in str(refused)
    return False
