"""Facts of different topics reach notification in either order (one consumer reads the three
fact topics side by side); what each organisation and registrant receives must not depend on
which came first. The facts are written here, in the order the race would bring them."""

from datetime import timedelta
from uuid import uuid4

from schemas.envelope import utc_now
from tests.integration.notification.calendars import calendar_of
from tests.integration.notification.conftest import Platform
from tests.integration.notification.scripted_facts import (
    forum_cancelled,
    forum_held,
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
    marker, before, after = (bodies.unique_email(n) for n in ("marker", "vorher", "nachher"))
    forum = forum_snapshot(uuid4(), utc_now() + timedelta(days=30), title="Reihenfolge")
    await publish(platform.settings, partner_joined(uuid4(), marker, utc_now()))
    await platform.mail_to(marker)
    scheduled = forum_scheduled(forum, at=utc_now())
    await publish(platform.settings, scheduled)
    await platform.received_once(marker, "forum_invitation", str(forum.forum_id))

    # Processed after the forum's scheduling: one joined a moment before it, one after it.
    # (Facts seconds old, as in a race: much older ones would be held as history, facts._hold.)
    joined_before = partner_joined(uuid4(), before, scheduled.occurred_at - timedelta(seconds=1))
    await publish(platform.settings, joined_before, partner_joined(uuid4(), after, utc_now()))

    invitation = await platform.received_once(before, "forum_invitation", str(forum.forum_id))
    assert invitation.delivery["source_event_id"] == str(scheduled.event_id)
    assert invitation.delivery["source_event_type"] == "forum.scheduled"
    assert invitation.subject.startswith("Einladung: Reihenfolge am ")
    await platform.received_once(after, "partner_welcome")
    # Either fact again (a redelivery, a replay) invites nobody twice.
    await publish(platform.settings, joined_before, scheduled)
    marker_again = partner_joined(uuid4(), bodies.unique_email("marker"), utc_now())
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
    made = registration_made(forum, address, at=now - timedelta(seconds=2))

    processed_before = await _processed(platform)
    await publish(
        platform.settings,
        forum_scheduled(forum, at=now - timedelta(seconds=3)),
        forum_updated(
            forum,
            at=now - timedelta(seconds=1),
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


async def test_a_registration_processed_after_its_forum_ended_gets_the_forums_last_word(
    platform: Platform,
) -> None:
    now = utc_now().replace(microsecond=0)
    came, booked = bodies.unique_email("kam"), bodies.unique_email("gebucht")
    held = forum_snapshot(uuid4(), now - timedelta(hours=2), title="Schon gehalten")
    cancelled = forum_snapshot(uuid4(), now + timedelta(days=10), title="Schon abgesagt")
    made_for_held = registration_made(held, came, at=now - timedelta(seconds=2))
    made_for_cancelled = registration_made(cancelled, booked, at=now - timedelta(seconds=2))
    held_fact = forum_held(held, at=now - timedelta(seconds=1))
    cancelled_fact = forum_cancelled(cancelled, at=now - timedelta(seconds=1))
    processed_before = await _processed(platform)
    await publish(
        platform.settings,
        forum_scheduled(held, at=now - timedelta(seconds=3)),
        held_fact,
        forum_scheduled(cancelled, at=now - timedelta(seconds=3)),
        cancelled_fact,
    )

    async def forums_processed() -> bool:
        return await _processed(platform) >= processed_before + 4

    await until(forums_processed, 30, "the forums' facts processed")
    await publish(platform.settings, made_for_held, made_for_cancelled)

    thanks = await platform.received_once(came, "forum_thanks")
    assert thanks.delivery["source_event_id"] == str(held_fact.event_id)
    assert "Eine Arbeitsgruppe wurde gegründet." in thanks.text
    cancellation = await platform.received_once(booked, "forum_cancelled")
    assert cancellation.delivery["source_event_id"] == str(cancelled_fact.event_id)
    assert calendar_of(cancellation.message).method == "CANCEL"
    for forum, suppressed in (
        (held, "the forum has started"),
        (cancelled, "the forum is cancelled"),
    ):
        deliveries = await platform.settled(2, forum_id=str(forum.forum_id))
        [confirmation] = [d for d in deliveries if d["kind"] == "registration_confirmed"]
        assert (confirmation["status"], confirmation["reason"]) == ("suppressed", suppressed)
    assert await platform.kinds_to(came) == ["forum_thanks"]
    assert await platform.kinds_to(booked) == ["forum_cancelled"]
