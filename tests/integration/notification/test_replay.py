"""`dialognet replay --service notification` republishes notification's outbox (notification.sent
and .failed) onto the notifications topic, in the module's own database and topics: the topic
holds each of the outbox's events again, reporting's inbox takes every copy as a duplicate (its
e-mail counts stay), and no mail goes out a second time."""

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.topics import Topic, topic_name
from services.notification.store import SCHEMA
from tests.cli import run_dialognet
from tests.integration.notification.conftest import Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import metric_value, new_forum, registered
from tests.integration.reporting.conftest import (
    RunningReporting,
    reporting_settings,
    running_reporting,
)
from tests.kafka_helpers import read_to_end
from tests.polling import until

WITHIN_SECONDS = 60.0


async def published_outbox(platform: Platform) -> list[str]:
    """The event ids of notification's outbox, once none waits to be published."""
    found: list[str] = []

    async def all_published() -> bool:
        conn = await platform.registration.database()
        try:
            rows = await conn.fetch(f"SELECT event_id::text, status FROM {SCHEMA}.outbox")
        finally:
            await conn.close()
        found[:] = [row["event_id"] for row in rows]
        return bool(rows) and all(row["status"] == "published" for row in rows)

    await until(all_published, WITHIN_SECONDS, "notification's outbox published", interval=0.1)
    return found


async def copies_on_the_topic(platform: Platform) -> Counter[str]:
    """How often each event id is on the notifications topic."""
    topic = topic_name(Topic.NOTIFICATIONS, platform.settings.topic_prefix)
    messages = await read_to_end(platform.settings.bootstrap(), topic)
    return Counter(message.value["event_id"] for message in messages)


async def duplicates_seen_by(reporting: RunningReporting) -> float:
    exposition = await reporting.metrics_text()
    return metric_value(
        exposition, "dialognet_consumer_messages_total", consumer="reporting", outcome="duplicate"
    )


async def emails_sent(reporting: RunningReporting) -> object:
    return (await reporting.report("emails"))["sent"]


@pytest.fixture
async def reporting(platform: Platform) -> AsyncIterator[RunningReporting]:
    async with running_reporting(reporting_settings(platform.settings)) as running:
        yield running


async def test_replay_of_notifications_outbox_republishes_it_and_nothing_counts_twice(
    platform: Platform, reporting: RunningReporting, tmp_path: Path
) -> None:
    forum = await new_forum(platform.registration, bodies.forum(capacity=1, title="Noch einmal"))
    seated, waiting = bodies.unique_email("sitz"), bodies.unique_email("warte")
    await registered(platform.registration, forum["id"], email=seated)
    await registered(platform.registration, forum["id"], email=waiting)
    await platform.settled(2, forum_id=forum["id"])  # confirmed, waitlisted
    outbox = await published_outbox(platform)
    assert len(outbox) == 2  # notification.sent of each mail
    assert await copies_on_the_topic(platform) == Counter(dict.fromkeys(outbox, 1))

    async def counted() -> bool:
        return await emails_sent(reporting) == len(outbox)

    await until(counted, WITHIN_SECONDS, "reporting counting both mails", interval=0.1)
    duplicates = await duplicates_seen_by(reporting)

    replayed = await run_dialognet(
        platform.settings, tmp_path, "replay", "--service", "notification"
    )

    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == f"republished {len(outbox)} events"
    assert await copies_on_the_topic(platform) == Counter(dict.fromkeys(outbox, 2))

    async def deduplicated() -> bool:
        return await duplicates_seen_by(reporting) >= duplicates + len(outbox)

    await until(deduplicated, WITHIN_SECONDS, "reporting seeing the copies", interval=0.1)
    assert await emails_sent(reporting) == len(outbox)
    assert await platform.kinds_to(seated) == ["registration_confirmed"]
    assert await platform.kinds_to(waiting) == ["registration_waitlisted"]
    assert len(await platform.deliveries(forum_id=forum["id"])) == 2
