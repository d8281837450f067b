"""Events the broker or the client refuses for good are marked failed; nothing stops the relay."""

import asyncio
import logging
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import CorruptRecordException, RequestTimedOutError
from prometheus_client import REGISTRY

from schemas.topics import Topic
from services.runtime.outbox import Outgoing, append, mark_for_replay
from services.runtime.settings import Settings
from tests.cli import run_dialognet
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration.intake_commands import forum_body
from tests.integration.runtime.conftest import SCHEMA, Outbox, event, running, stop
from tests.kafka_helpers import ConsumedMessage, read_to_end
from tests.polling import until

# An intake.rejected that echoes a huge input: over the producer's max_request_size (1 MiB).
HUGE_ECHO = "Ä Ö Ü ß " * 150_000


def failures(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "dialognet_outbox_failed_total", {"schema": SCHEMA, "reason": reason}
    )
    return value or 0.0


def sequences(messages: list[ConsumedMessage], key: str) -> list[int]:
    return [message.value["data"]["sequence"] for message in messages if message.key == key]


async def test_an_event_too_large_is_marked_failed_and_every_later_event_is_published(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    huge = event("forum-a", 1, "intake.rejected", echo=HUGE_ECHO)
    failed_before = failures("too_large")

    async with outbox.relay() as relay:
        task = await running(relay)
        try:
            await outbox.append([event("forum-a", 0), huge, event("forum-b", 0)])
            await until(outbox.none_pending, 20.0, "published or marked failed")
            await outbox.append([event("forum-a", 2)])  # the relay still runs
            await until(outbox.none_pending, 20.0, "the later event published")
        finally:
            await stop(task)

    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert sequences(published, "forum-a") == [0, 2]
    assert sequences(published, "forum-b") == [0]
    rows = await outbox.rows()
    assert [row["status"] for row in rows] == ["published", "failed", "published", "published"]
    failed = rows[1]
    assert failed["event_id"] == huge.event_id
    assert failed["failed_at"] is not None
    assert failed["failure_reason"].startswith("too_large: MessageSizeTooLargeError: The message")
    assert failures("too_large") == failed_before + 1
    [logged] = [
        record
        for record in caplog.records
        if record.name == "services.runtime.outbox" and record.levelno == logging.ERROR
    ]
    assert str(huge.event_id) in logged.getMessage()
    assert "intake.rejected" in logged.getMessage()
    assert "too_large" in logged.getMessage()
    assert "Ä Ö" not in logged.getMessage()  # never the envelope: it holds personal data


async def test_a_topic_outside_the_contract_is_marked_failed(outbox: Outbox) -> None:
    await outbox.append([event("forum-a", 0), event("forum-a", 1), event("forum-a", 2)])
    async with outbox.pool.acquire() as conn:  # as an older or a broken writer left it
        await conn.execute(
            f"UPDATE {SCHEMA}.outbox SET topic = 'forum' WHERE envelope->'data'->'sequence' = '1'"
        )
    failed_before = failures("invalid_topic")

    async with outbox.relay() as relay:
        assert await relay.publish_batch() == 3
        assert await relay.publish_batch() == 0  # nothing is left to retry forever

    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert sequences(published, "forum-a") == [0, 2]
    rows = await outbox.rows()
    assert [row["status"] for row in rows] == ["published", "failed", "published"]
    assert rows[1]["failure_reason"] == (
        "invalid_topic: InvalidTopicError: 'forum' is not a topic of the contract"
    )
    assert failures("invalid_topic") == failed_before + 1


def answered_with(error: Exception) -> "asyncio.Future[object]":
    """What send() returns when the broker's answer to the record is `error`."""
    answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    answer.set_exception(error)
    return answer


def is_poison(value: object) -> bool:
    return isinstance(value, bytes) and b'"poison":true' in value


class RefusingBroker:
    """A broker that refuses the producer batch holding a poisoned record as a whole, as Kafka
    does (INVALID_RECORD, CORRUPT_MESSAGE): the first `batch` records fail together; sent on
    their own afterwards, only the poisoned one is refused again."""

    def __init__(self, producer: AIOKafkaProducer, batch: int = 3) -> None:
        self._producer = producer
        self._refuse_next = batch

    async def send(self, *args: object, **kwargs: object) -> object:
        if self._refuse_next > 0 or is_poison(kwargs.get("value")):
            self._refuse_next -= 1
            return answered_with(CorruptRecordException())
        return await self._producer.send(*args, **kwargs)  # type: ignore[arg-type]


async def test_only_the_refused_record_of_a_refused_producer_batch_fails(outbox: Outbox) -> None:
    poisoned = event("forum-a", 1, poison=True)
    await outbox.append([event("forum-a", 0), poisoned, event("forum-a", 2)])

    async with outbox.relay(through=RefusingBroker) as relay:
        assert await relay.publish_batch() == 3

    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert sequences(published, "forum-a") == [0, 2]
    rows = await outbox.rows()
    assert [row["status"] for row in rows] == ["published", "failed", "published"]
    assert rows[1]["event_id"] == poisoned.event_id
    assert rows[1]["failure_reason"].startswith("invalid_record: CorruptRecordException: ")


class TimingOutOnce:
    """A broker whose answer to the second record times out once (a retriable error)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._sent = 0

    async def send(self, *args: object, **kwargs: object) -> object:
        self._sent += 1
        if self._sent == 2:
            return answered_with(RequestTimedOutError())
        return await self._producer.send(*args, **kwargs)  # type: ignore[arg-type]


async def test_a_transient_failure_marks_nothing_of_the_batch(outbox: Outbox) -> None:
    huge = event("forum-a", 0, echo=HUGE_ECHO)
    await outbox.append([huge, event("forum-a", 1), event("forum-a", 2)])

    async with outbox.relay(through=TimingOutOnce) as relay:
        with pytest.raises(RequestTimedOutError):
            await relay.publish_batch()
        # The refusal of the first row waits too: the round is retried as a whole.
        assert [row["status"] for row in await outbox.rows()] == ["not_published"] * 3

        assert await relay.publish_batch() == 3

    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    # The third row went out in the failed round too: consumers dedupe by event_id.
    assert sequences(published, "forum-a") == [2, 1, 2]
    assert [row["status"] for row in await outbox.rows()] == ["failed", "published", "published"]


async def test_replay_queues_failed_events_again_without_their_failure(outbox: Outbox) -> None:
    await outbox.append([event("forum-a", 0), event("forum-a", 1)])
    async with outbox.pool.acquire() as conn:
        await conn.execute(f"UPDATE {SCHEMA}.outbox SET topic = 'forum'")
    async with outbox.relay() as relay:
        await relay.publish_batch()
        async with outbox.pool.acquire() as conn:
            await conn.execute(f"UPDATE {SCHEMA}.outbox SET topic = 'forums'")  # the fix
            queued = await mark_for_replay(conn, SCHEMA)
        assert queued == 2
        assert [row["failure_reason"] for row in await outbox.rows()] == [None, None]
        assert await relay.publish_batch() == 2

    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert sequences(published, "forum-a") == [0, 1]
    assert [row["status"] for row in await outbox.rows()] == ["published", "published"]


async def outbox_statuses(service: RunningService) -> dict[str, str]:
    """Status of each forum.updated row of the service's outbox, by the event's sequence."""
    conn = await service.database()
    try:
        rows = await conn.fetch(
            "SELECT envelope->'data'->>'sequence' AS sequence, status FROM registration.outbox"
            " WHERE type = 'forum.updated'"
        )
    finally:
        await conn.close()
    return {row["sequence"]: row["status"] for row in rows}


async def test_replay_command_with_failed_republishes_only_the_failed_events(
    settings: Settings, tmp_path: Path
) -> None:
    forums_topic = f"{settings.topic_prefix}forums"
    async with running_registration(settings) as service:
        forum = await service.staff.post("/v1/forums", json=forum_body())
        assert forum.status_code == 201, forum.text
        conn = await service.database()
        try:
            async with conn.transaction():  # two events the service's relay cannot publish
                await append(
                    conn, "registration", [Outgoing(Topic.FORUMS, event("f", n)) for n in (1, 2)]
                )
                await conn.execute(
                    "UPDATE registration.outbox SET topic = 'forum' WHERE type = 'forum.updated'"
                )
            await until(
                lambda: _all_failed(service), 20.0, "both events marked failed by the relay"
            )
            await conn.execute(  # the fix, for one of them
                "UPDATE registration.outbox SET topic = 'forums'"
                " WHERE envelope->'data'->>'sequence' = '1'"
            )
        finally:
            await conn.close()

        replayed = await run_dialognet(settings, tmp_path, "replay", "--failed")

        assert replayed.returncode == 0, replayed.stderr
        assert "republished 2 events" in replayed.stdout
        assert "1 events are marked failed" in replayed.stderr
        assert await outbox_statuses(service) == {"1": "published", "2": "failed"}

    published = await read_to_end(settings.bootstrap(), forums_topic)
    # forum.scheduled was published, not failed: it is not published again. (Their keys differ,
    # so they may lie on different partitions: no order between them to compare.)
    assert sorted(message.headers["type"] for message in published) == [
        "forum.scheduled",
        "forum.updated",
    ]
    [updated] = [message for message in published if message.headers["type"] == "forum.updated"]
    assert updated.value["data"]["sequence"] == 1


async def _all_failed(service: RunningService) -> bool:
    return set((await outbox_statuses(service)).values()) == {"failed"}
