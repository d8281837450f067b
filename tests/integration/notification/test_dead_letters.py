"""A message on a fact topic that notification can never process goes to that topic's
dead-letter topic, with the reason, and the service goes on with the next fact."""

import json
from datetime import timedelta
from uuid import uuid4

from schemas.envelope import utc_now
from tests.integration.notification.conftest import Platform
from tests.integration.notification.scripted_facts import (
    forum_snapshot,
    publish,
    registration_made,
)
from tests.integration.registration import bodies
from tests.kafka_helpers import consume_until, produce


async def test_malformed_facts_go_to_the_dead_letter_topic_and_the_service_goes_on(
    platform: Platform,
) -> None:
    settings = platform.settings
    topic = f"{settings.topic_prefix}registrations"
    forum = forum_snapshot(uuid4(), utc_now() + timedelta(days=30), title="Danach")
    key = str(forum.forum_id)
    valid = registration_made(forum, bodies.unique_email("danach"), utc_now())
    lacking_data = json.loads(valid.to_json())
    del lacking_data["data"]["attendees"]
    lacking_data["event_id"] = str(uuid4())

    await produce(settings.bootstrap(), topic, b"{not json", key=key)
    await produce(
        settings.bootstrap(), topic, lacking_data, key=key, headers={"type": "registration.made"}
    )
    await publish(settings, valid)  # the next fact of the same key, on the same partition

    await platform.received_once(str(valid.data.contact.email), "registration_confirmed")  # type: ignore[union-attr]
    letters = [
        letter
        for letter in await consume_until(
            settings.bootstrap(),
            f"{topic}.dlq",
            lambda m: (
                m.key == key
                and m.headers.get("consumer") == "notification"
                and "attendees" in m.headers.get("error", "")
            ),
            timeout=30,
        )
        if letter.key == key and letter.headers.get("consumer") == "notification"
    ]
    assert len(letters) == 2
    not_json, invalid = letters
    assert not_json.value == b"{not json"
    assert not_json.headers["error"].startswith("not JSON")
    assert not_json.headers["source-topic"] == topic
    assert invalid.value == lacking_data
    assert invalid.headers["error"] == "not a valid registration.made: data.attendees"
    assert await platform.deliveries(forum_id=key) != []
