"""The outbox relay on real PostgreSQL and the real broker: order, wake-up, replicas, replay."""

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError

from schemas.envelope import Envelope
from schemas.vocabulary import BERLIN
from services.runtime.outbox import mark_for_replay
from services.runtime.settings import Settings
from tests.cli import run_dialognet
from tests.integration.conftest import RunningService, running_registration
from tests.integration.delivery import event_ids_by_key, first_deliveries, outbox_ids_by_key
from tests.integration.registration.intake_commands import forum_body, registration_body
from tests.integration.runtime.conftest import SCHEMA, Outbox, event, running, stop
from tests.kafka_helpers import ConsumedMessage, consume_until, read_to_end
from tests.polling import until


def interleaved(keys: list[str], per_key: int) -> list[Envelope]:
    return [event(key, sequence) for sequence in range(per_key) for key in keys]


async def test_relay_publishes_in_id_order_per_key(outbox: Outbox) -> None:
    keys = [f"forum-{n}" for n in range(5)]
    for chunk in range(6):  # several transactions, several batches of 7
        await outbox.append(interleaved(keys, 10)[chunk * 10 : (chunk + 1) * 10])
    await outbox.append(interleaved(keys, 10)[60:])

    async with outbox.relay(batch_size=7) as relay:
        while await relay.publish_batch():
            pass

    assert await outbox.unpublished() == 0
    published = await consume_until(outbox.settings.bootstrap(), outbox.topic(), 50)
    assert event_ids_by_key(published) == outbox_ids_by_key(await outbox.rows())
    assert {message.headers["type"] for message in published} == {"forum.updated"}
    by_key = {key: [m.value["data"]["sequence"] for m in published if m.key == key] for key in keys}
    assert by_key == {key: list(range(10)) for key in keys}


async def test_notify_wakes_the_relay_long_before_its_poll(settings: Settings) -> None:
    # The relay polls once a minute here: only the trigger's NOTIFY can bring this event quickly.
    slow_poll = settings.model_copy(update={"outbox_poll_interval_seconds": 60.0})
    async with running_registration(slow_poll) as service:
        forum = await service.staff.post("/v1/forums", json=forum_body())
        assert forum.status_code == 201, forum.text
        await consume_until(settings.bootstrap(), f"{settings.topic_prefix}forums", 1)

        started = time.monotonic()
        made = await service.public.post(
            f"/v1/forums/{forum.json()['id']}/registrations",
            json=registration_body("wake@example.org"),
        )
        assert made.status_code == 201, made.text
        await consume_until(
            settings.bootstrap(),
            f"{settings.topic_prefix}registrations",
            lambda message: message.value["data"]["registration_id"] == made.json()["id"],
            timeout=3.0,
        )
        assert time.monotonic() - started < 3.0


async def _rounds_that_published(outbox: Outbox, commits: int, linger_seconds: float) -> int:
    """Rows committed one transaction each, right after one another, to a relay that waits
    for work: how many rounds published them (a round marks its rows in one statement, so they
    share their published_at)."""
    async with outbox.relay(poll_interval_seconds=3600.0, linger_seconds=linger_seconds) as relay:
        task = await running(relay)
        try:
            await until(lambda: _listening(outbox), 20.0, "the relay listens")
            for sequence in range(commits):
                await outbox.append([event("forum-1", sequence)])
            await until(outbox.none_pending, 20.0, "every event published")
        finally:
            await stop(task)
    async with outbox.pool.acquire() as conn:
        rounds: int = await conn.fetchval(
            f"SELECT count(DISTINCT published_at) FROM {SCHEMA}.outbox"
        )
    return rounds


async def test_a_lingering_relay_publishes_the_commits_right_behind_a_wake_up_in_one_round(
    outbox: Outbox,
) -> None:
    # Notification's relay lingers (a commit a mail): its facts go out a round per burst.
    assert await _rounds_that_published(outbox, commits=6, linger_seconds=2.0) == 1
    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert [message.value["data"]["sequence"] for message in published] == list(range(6))


async def test_a_relay_without_linger_publishes_at_the_first_wake_up(outbox: Outbox) -> None:
    # The registration service's: its events are waited for, each round goes at once.
    assert await _rounds_that_published(outbox, commits=6, linger_seconds=0.0) > 1


async def _listening_backends(outbox: Outbox) -> list[int]:
    async with outbox.pool.acquire() as conn:
        pids: list[int] = await conn.fetchval(
            "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = $1",
            f'LISTEN "{SCHEMA}_outbox"',
        )
    return pids


async def test_the_relay_listens_again_after_losing_its_connection(outbox: Outbox) -> None:
    # Polling once an hour: only a NOTIFY the relay hears can publish these events.
    async with outbox.relay(poll_interval_seconds=3600.0) as relay:
        task = await running(relay)
        try:
            await until(lambda: _listening(outbox), 20.0, "the relay listens")
            [first_listener] = await _listening_backends(outbox)
            async with outbox.pool.acquire() as conn:  # as a database restart would
                await conn.execute("SELECT pg_terminate_backend($1)", first_listener)

            await until(lambda: _listening(outbox), 20.0, "the relay listens again")
            await outbox.append([event("forum-1", 1)])
            await until(outbox.none_pending, 20.0, "the event published")
        finally:
            await stop(task)

    assert first_listener not in await _listening_backends(outbox)
    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert [message.value["data"]["sequence"] for message in published] == [1]


async def _listening(outbox: Outbox) -> bool:
    return len(await _listening_backends(outbox)) == 1


async def test_two_relays_publish_each_event_once_in_order(outbox: Outbox) -> None:
    keys = [f"forum-{n}" for n in range(4)]
    events = interleaved(keys, 100)
    async with outbox.relay(batch_size=5) as first, outbox.relay(batch_size=5) as second:
        tasks = [await running(first), await running(second)]
        try:
            for start in range(0, len(events), 8):  # written while both relays run
                await outbox.append(events[start : start + 8])
            await until(outbox.none_pending, 20.0, "every event published")
        finally:
            for task in tasks:
                await stop(task)

    # Every ack came before its row was marked published, so the topic is complete now.
    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    event_ids = [message.value["event_id"] for message in published]
    assert len(event_ids) == len(events)
    assert set(event_ids) == {str(e.event_id) for e in events}
    assert event_ids_by_key(published) == outbox_ids_by_key(await outbox.rows())


async def test_marked_for_replay_is_published_again(outbox: Outbox) -> None:
    old = [event("forum-a", 0, "forum.scheduled"), event("forum-a", 1, "forum.updated")]
    await outbox.append(old)
    async with outbox.pool.acquire() as conn:  # back-date them
        await conn.execute(f"UPDATE {SCHEMA}.outbox SET occurred_at = now() - interval '2 days'")
    recent = [event("forum-a", 2, "forum.updated"), event("forum-a", 3, "forum.cancelled")]
    await outbox.append(recent)
    async with outbox.relay() as relay:
        await relay.publish_batch()
        async with outbox.pool.acquire() as conn:
            queued = await mark_for_replay(
                conn,
                SCHEMA,
                since=datetime.now(UTC) - timedelta(days=1),
                event_type="forum.updated",
            )
        assert queued == 1
        assert await outbox.unpublished() == 1
        assert await relay.publish_batch() == 1

    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    sequences = [message.value["data"]["sequence"] for message in published]
    assert sequences == [0, 1, 2, 3, 2]
    assert published[-1].value["event_id"] == str(recent[0].event_id)


async def test_replay_command_republishes_only_the_selected_events(
    settings: Settings, tmp_path: Path
) -> None:
    registrations_topic = f"{settings.topic_prefix}registrations"
    async with running_registration(settings) as service:
        forum = (await service.staff.post("/v1/forums", json=forum_body())).json()
        path = f"/v1/forums/{forum['id']}/registrations"
        before = await service.public.post(path, json=registration_body("early@example.org"))
        after = await service.public.post(path, json=registration_body("late@example.org"))
        await consume_until(settings.bootstrap(), registrations_topic, 2)
        conn = await service.database()
        try:  # the first registration happened an hour ago, as far as the event log knows
            await conn.execute(
                "UPDATE registration.outbox SET occurred_at = occurred_at - interval '1 hour'"
                " WHERE envelope->'data'->>'registration_id' = $1",
                before.json()["id"],
            )
        finally:
            await conn.close()
        since = datetime.now(BERLIN) - timedelta(minutes=30)

        replayed = await run_dialognet(
            settings,
            tmp_path,
            "replay",
            "--since",
            since.strftime("%Y-%m-%dT%H:%M:%S"),  # no offset: Europe/Berlin
            "--type",
            "registration.made",
        )
        assert replayed.returncode == 0, replayed.stderr
        assert "republished 1 events" in replayed.stdout

    def made_by(messages: list[ConsumedMessage]) -> list[str]:
        return [message.value["data"]["registration_id"] for message in messages]

    published = await read_to_end(settings.bootstrap(), registrations_topic)
    assert made_by(published) == [before.json()["id"], after.json()["id"], after.json()["id"]]
    assert len(first_deliveries(published)) == 2
    forums = await read_to_end(settings.bootstrap(), f"{settings.topic_prefix}forums")
    assert [message.headers["type"] for message in forums] == ["forum.scheduled"]


class FailingOnce:
    """A producer whose first send fails as aiokafka's does when the broker is unreachable."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self.failed = False

    async def send(self, *args: object, **kwargs: object) -> object:
        if not self.failed:
            self.failed = True
            raise KafkaTimeoutError("broker unreachable")
        return await self._producer.send(*args, **kwargs)  # type: ignore[arg-type]


async def test_relay_keeps_running_after_a_kafka_error(outbox: Outbox) -> None:
    async with outbox.relay(
        batch_size=10, poll_interval_seconds=0.05, through=FailingOnce
    ) as relay:
        failing = cast(FailingOnce, relay._producer)
        task = await running(relay)

        async def published() -> bool:
            if task.done():  # a relay that stopped publishes nothing until the next restart
                raise AssertionError(f"the relay stopped: {task.exception()!r}")
            return await outbox.none_pending()

        try:
            await outbox.append([event("forum-a", 0)])
            await until(published, 5.0, "published after one failed send")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, KafkaTimeoutError):
                await task
    assert failing.failed
    on_topic = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert [message.value["data"]["sequence"] for message in on_topic] == [0]


async def test_a_row_another_transaction_holds_is_not_overtaken_by_its_key(outbox: Outbox) -> None:
    await outbox.append([event("forum-c", 0)])
    await outbox.append([event("forum-a", 0)])
    held = (await outbox.rows())[1]
    async with outbox.pool.acquire() as erasure, erasure.transaction():
        # As erasure does: it rewrites the envelopes of the organisation's rows, locking them.
        await erasure.execute(
            f"UPDATE {SCHEMA}.outbox SET envelope = envelope #- '{{data,contact}}' WHERE id = $1",
            held["id"],
        )
        await outbox.append([event("forum-a", 1), event("forum-b", 0)])
        async with outbox.relay() as relay:
            assert await relay.publish_batch() == 1  # what comes before the held row

        before_commit = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
        assert [(message.key, message.value["data"]["sequence"]) for message in before_commit] == [
            ("forum-c", 0)
        ]

    async with outbox.relay() as relay:
        assert await relay.publish_batch() == 3
    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert event_ids_by_key(published) == outbox_ids_by_key(await outbox.rows())


async def test_fields_to_scrub_leave_the_stored_envelope_once_published(outbox: Outbox) -> None:
    secret = event("forum-a", 0, token="only-for-the-recipient", kept="yes")
    await outbox.append([secret], scrub_on_publish=("token", "absent"))
    await outbox.append([event("forum-a", 1, token="not-scrubbed")])
    [stored, _] = await outbox.rows()
    assert stored["envelope"]["data"]["token"] == "only-for-the-recipient"  # until published

    async with outbox.relay() as relay:
        assert await relay.publish_batch() == 2

    published = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    assert [message.value["data"].get("token") for message in published] == [
        "only-for-the-recipient",
        "not-scrubbed",
    ]
    [scrubbed, untouched] = await outbox.rows()
    assert scrubbed["envelope"]["data"] == {"sequence": 0, "kept": "yes"}
    assert scrubbed["envelope"]["event_id"] == str(secret.event_id)
    assert untouched["envelope"]["data"]["token"] == "not-scrubbed"


async def test_the_cancel_token_travels_in_registration_made_but_leaves_the_outbox(
    registration: RunningService,
) -> None:
    settings = registration.settings
    forum = await registration.staff.post("/v1/forums", json=forum_body())
    assert forum.status_code == 201, forum.text
    made = await registration.public.post(
        f"/v1/forums/{forum.json()['id']}/registrations", json=registration_body("t@example.org")
    )
    assert made.status_code == 201, made.text

    [message] = await consume_until(
        settings.bootstrap(), f"{settings.topic_prefix}registrations", 1
    )
    assert message.value["data"]["cancel_token"] == made.json()["cancel_token"]
    stored = await _published_envelope(registration, message.value["event_id"])
    assert "cancel_token" not in stored["data"]
    assert stored["data"]["registration_id"] == made.json()["id"]


async def _published_envelope(service: RunningService, event_id: str) -> dict[str, Any]:
    """The outbox's copy of an event, once its row is marked published."""
    conn = await service.database()
    try:

        async def published() -> bool:
            status = await conn.fetchval(
                "SELECT status FROM registration.outbox WHERE event_id = $1::uuid", event_id
            )
            return bool(status == "published")

        await until(published, 10.0, "the row marked published")
        envelope = await conn.fetchval(
            "SELECT envelope::text FROM registration.outbox WHERE event_id = $1::uuid", event_id
        )
    finally:
        await conn.close()
    return cast(dict[str, Any], json.loads(envelope))


class TerminatingTheBatch:
    """Sends, but first terminates the relay's batch connection (idle in its transaction while
    it publishes), as a database restart or failover would: marking the batch then fails."""

    def __init__(self, producer: AIOKafkaProducer, database_url: str) -> None:
        self._producer = producer
        self._database_url = database_url
        self.terminated = 0

    async def send(self, *args: object, **kwargs: object) -> object:
        if not self.terminated:
            admin = await asyncpg.connect(self._database_url)
            try:
                self.terminated = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND state = 'idle in transaction'"
                )
            finally:
                await admin.close()
        return await self._producer.send(*args, **kwargs)  # type: ignore[arg-type]


async def test_relay_goes_on_after_its_connection_is_terminated_mid_batch(outbox: Outbox) -> None:
    database_url = outbox.settings.service_database_url("relay")

    def terminating(producer: AIOKafkaProducer) -> TerminatingTheBatch:
        return TerminatingTheBatch(producer, database_url)

    async with outbox.relay(poll_interval_seconds=0.05, through=terminating) as relay:
        task = await running(relay)

        async def published() -> bool:
            if task.done():  # asyncpg raised InterfaceError / InternalClientError out of run()
                raise AssertionError(f"the relay stopped: {task.exception()!r}")
            return await outbox.none_pending()

        try:
            await outbox.append([event("forum-t", 0)])
            await until(published, 15.0, "published after the connection was terminated")
        finally:
            await stop(task)
    assert cast(TerminatingTheBatch, relay._producer).terminated == 1
    on_topic = await read_to_end(outbox.settings.bootstrap(), outbox.topic())
    # Sent before the connection died and again after: consumers dedupe by event_id.
    assert {message.value["data"]["sequence"] for message in on_topic} == {0}
