"""Valid messages of every consumed topic, as other systems and the registration service write
them: what the bad messages are mutated from, and what is published after the flood to show
that no consumer stalled."""

import json
from datetime import timedelta
from typing import Any
from uuid import uuid4

from schemas.envelope import Envelope, utc_now
from schemas.notifications import NotificationSent, NotificationSentData
from schemas.topics import Topic
from tests.integration.notification import scripted_facts
from tests.integration.registration import bodies, intake_commands

JsonObject = dict[str, Any]


def as_json(event: Envelope) -> JsonObject:
    parsed: JsonObject = json.loads(event.to_json())
    return parsed


def forum(title: str = "Forum Gleichbehandlung") -> scripted_facts.ForumSnapshot:
    return scripted_facts.forum_snapshot(uuid4(), utc_now() + timedelta(days=30), title=title)


def notification_sent(recipient_hash: str = "0" * 64) -> NotificationSent:
    now = utc_now()
    return NotificationSent(
        producer="notification",
        key=recipient_hash,
        data=NotificationSentData(
            delivery_id=uuid4(),
            template="registration_confirmed",
            language="de",
            recipient_hash=recipient_hash,
            source_event_id=uuid4(),
            source_event_type="registration.made",
            sent_at=now,
        ),
    )


def fact_samples() -> dict[Topic, list[JsonObject]]:
    """A few valid facts of each fact topic, as JSON objects."""
    now = utc_now()
    snapshot = forum()
    return {
        Topic.ORGANIZATIONS: [
            as_json(scripted_facts.partner_joined(uuid4(), bodies.unique_email("fuzz"), now))
        ],
        Topic.FORUMS: [
            as_json(scripted_facts.forum_scheduled(snapshot, now)),
            as_json(scripted_facts.forum_cancelled(snapshot, now)),
            as_json(scripted_facts.forum_held(snapshot, now)),
        ],
        Topic.REGISTRATIONS: [
            as_json(scripted_facts.registration_made(snapshot, bodies.unique_email("fuzz"), now))
        ],
        Topic.NOTIFICATIONS: [as_json(notification_sent())],
    }


def intake_samples() -> list[JsonObject]:
    """A few valid intake commands (valid in shape: the forums they name need not exist)."""
    forum_id = str(uuid4())
    organization = {**bodies.organization(), "name": "Verein Fuzz"}
    return [
        intake_commands.register_command(forum_id, bodies.unique_email("fuzz")),
        intake_commands.command("schedule_forum", intake_commands.forum_body()),
        intake_commands.command("register_organization", organization),
        intake_commands.command("cancel_forum", {"forum_id": forum_id, "reason": "Fuzz"}),
    ]


def samples() -> dict[Topic, list[JsonObject]]:
    return {**fact_samples(), Topic.INTAKE: intake_samples()}
