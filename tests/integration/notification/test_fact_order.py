"""Facts of different topics reach notification in either order (one consumer reads the three
fact topics side by side); what each organisation and registrant receives must not depend on
which came first. The facts are written here, in the order the race would bring them."""

from datetime import timedelta
from uuid import uuid4

from schemas.envelope import utc_now
from tests.integration.notification.calendars import calendar_of
from tests.integration.notification.conftest import Platform
from tests.integration.notification.scripted_facts import (
    forum_scheduled,
    forum_snapshot,
    forum_updated,
    partner_joined,
    publish,
    registration_made,
)
from tests.integration.registration import bodies
from tests.integration.registration.steps import metric_value
from tests.polling import until


async def test_a_partner_who_joined_before_the_forum_is_invited_whichever_comes_first(
    platform: Platform,
) -> None:
    now = utc_now().replace(microsecond=0)
    marker, before, after = (bodies.unique_email(n) for n in ("marker", "vorher", "nachher"))
    forum = forum_snapshot(uuid4(), now + timedelta(days=30), title="Reihenfolge")
    scheduled = forum_scheduled(forum, at=now - timedelta(minutes=1))
    await publish(platform.settings, partner_joined(uuid4(), marker, now - timedelta(hours=2)))
    await platform.mail_to(marker)
    await publish(platform.settings, scheduled)
    await platform.received_once(marker, "forum_invitation", str(forum.forum_id))

    # Processed after the forum's scheduling: one joined an hour before it, one after it.
    joined_before = partner_joined(uuid4(), before, now - timedelta(hours=1))
    await publish(platform.settings, joined_before, partner_joined(uuid4(), after, now))

    invitation = await platform.received_once(before, "forum_invitation", str(forum.forum_id))
    assert invitation.delivery["source_event_id"] == str(scheduled.event_id)
    assert invitation.delivery["source_event_type"] == "forum.scheduled"
    assert invitation.subject.startswith("Einladung: Reihenfolge am ")
    await platform.received_once(after, "partner_welcome")
    # Either fact again (a redelivery, a replay) invites nobody twice.
    await publish(platform.settings, joined_before, scheduled)
    marker_again = partner_joined(uuid4(), bodies.unique_email("marker"), now)
    await publish(platform.settings, marker_again)  # processed after the two above
    await platform.mail_to(str(marker_again.data.contact.email))  # type: ignore[union-attr]
    await platform.settled(2, forum_id=str(forum.forum_id))
    assert await platform.kinds_to(before) == ["partner_welcome", "forum_invitation"]
    assert await platform.kinds_to(after) == ["partner_welcome"]
    assert await platform.kinds_to(marker) == ["partner_welcome", "forum_invitation"]


async def _processed(platform: Platform) -> float:
    exposition = (await platform.notification.get("/metrics")).text
    return metric_value(
        exposition,
        "dialognet_consumer_messages_total",
        consumer="notification",
        outcome="processed",
    )


async def test_a_registration_processed_after_a_later_change_of_time_tells_the_new_time(
    platform: Platform,
) -> None:
    now = utc_now().replace(microsecond=0)
    address = bodies.unique_email("spaet")
    forum = forum_snapshot(uuid4(), now + timedelta(days=30), title="Verschoben")
    moved_to = forum.starts_at + timedelta(days=2)
    made = registration_made(forum, address, at=now - timedelta(minutes=2))

    processed_before = await _processed(platform)
    await publish(
        platform.settings,
        forum_scheduled(forum, at=now - timedelta(minutes=3)),
        forum_updated(
            forum,
            at=now - timedelta(minutes=1),
            starts_at=moved_to,
            ends_at=moved_to + timedelta(hours=3),
        ),
    )

    async def both_processed() -> bool:
        return await _processed(platform) >= processed_before + 2

    await until(both_processed, 30, "the forum's two facts processed")
    await publish(platform.settings, made)

    confirmation = await platform.received_once(address, "registration_confirmed")
    entry = calendar_of(confirmation.message)
    assert entry.starts_at == moved_to
    assert entry.sequence == 1
    assert await platform.kinds_to(address) == ["registration_confirmed"]
