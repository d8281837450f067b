"""A long history — partners of years, forums held, cancelled, moved into the past — read by a
notification service that starts on a fresh schema: it writes to nobody about the past (each
such mail is a `suppressed` delivery with its reason) and sends what the recent facts say about
what is still ahead. What "about the past" means: services/notification/domain/occasions.py."""

from datetime import datetime, timedelta
from uuid import uuid4

from schemas.envelope import Envelope, utc_now
from services.runtime.settings import Settings
from tests.integration.notification.conftest import (
    Platform,
    platform_settings,
    running_notification,
    running_platform,
)
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

OLDER = "the event is older than 7 days"
STARTED = "the forum has started"


def _history(now: datetime, address: dict[str, str]) -> tuple[list[Envelope], dict[str, str]]:
    """The facts, in the order the registration service wrote them, and the forum ids."""
    day = timedelta(days=1)
    long_held = forum_snapshot(uuid4(), now - 250 * day, title="Lange her")
    cancelled = forum_snapshot(uuid4(), now + 30 * day, title="Abgesagt")
    moved = forum_snapshot(uuid4(), now + 3 * day, title="Verlegt und gehalten")
    upcoming = forum_snapshot(uuid4(), now + 20 * day, title="Demnächst")
    announced_long_ago = forum_snapshot(uuid4(), now + 10 * day, title="Lange angekündigt")
    started = forum_snapshot(uuid4(), now - timedelta(hours=1), title="Begonnen")
    held_lately = forum_snapshot(uuid4(), now - 3 * day, title="Kürzlich gehalten")
    in_2025 = moved.starts_at.replace(year=2025)
    facts = [
        partner_joined(uuid4(), address["old_partner"], now - 400 * day),
        forum_scheduled(long_held, now - 300 * day),
        registration_made(long_held, address["long_held"], now - 290 * day),
        forum_held(long_held, now - 249 * day),
        forum_scheduled(cancelled, now - 60 * day),
        registration_made(cancelled, address["cancelled"], now - 50 * day),
        forum_cancelled(cancelled, now - 40 * day),
        forum_scheduled(announced_long_ago, now - 30 * day),
        registration_made(announced_long_ago, address["announced_early"], now - 20 * day),
        forum_scheduled(held_lately, now - 6 * day),
        registration_made(held_lately, address["held_lately"], now - 6 * day + timedelta(hours=1)),
        forum_scheduled(started, now - 5 * day),
        registration_made(started, address["started"], now - 4 * day),
        # As the demo does: registered while ahead, then moved to its real date, held.
        forum_scheduled(moved, now - 3 * day),
        registration_made(moved, address["moved"], now - 3 * day + timedelta(hours=1)),
        forum_updated(
            moved, now - 2 * day, starts_at=in_2025, ends_at=in_2025 + timedelta(hours=3)
        ),
        partner_joined(uuid4(), address["new_partner"], now - 2 * day),
        forum_held(held_lately, now - 2 * day),
        forum_held(moved, now - day),
        forum_scheduled(upcoming, now - day),
        registration_made(upcoming, address["upcoming"], now - timedelta(hours=12)),
        registration_made(announced_long_ago, address["announced_late"], now - timedelta(hours=1)),
    ]
    forums = {
        "long_held": long_held,
        "cancelled": cancelled,
        "moved": moved,
        "upcoming": upcoming,
        "announced": announced_long_ago,
        "started": started,
        "held_lately": held_lately,
    }
    return facts, {name: str(forum.forum_id) for name, forum in forums.items()}


async def _outcomes(
    platform: Platform, forum_id: str, count: int, *, but_invitations: bool = False
) -> dict[tuple[str, str], str]:
    """(recipient, kind) → `sent` or the reason it was suppressed, once `count` are final (not
    counting invitations when `but_invitations`: those are left out, each checked to be about
    the past — whether one is planned at all depends on which topic was read first)."""
    settled = await platform.settled(
        count,
        60,
        counting=lambda d: not (but_invitations and d["kind"] == "forum_invitation"),
        forum_id=forum_id,
    )
    outcomes = {
        (d["recipient"], d["kind"]): d["reason"] if d["status"] == "suppressed" else d["status"]
        for d in settled
        if d["kind"] != "forum_reminder"  # due long ago, if planned at all: about the past too
    }
    if not but_invitations:
        return outcomes
    invitations = {key: why for key, why in outcomes.items() if key[1] == "forum_invitation"}
    assert set(invitations.values()) <= {OLDER}, invitations
    return {key: why for key, why in outcomes.items() if key not in invitations}


async def test_a_long_history_read_into_a_fresh_schema_sends_nothing_about_the_past(
    settings: Settings,
) -> None:
    now = utc_now().replace(microsecond=0)
    names = (
        "old_partner",
        "new_partner",
        "long_held",
        "cancelled",
        "announced_early",
        "announced_late",
        "held_lately",
        "started",
        "moved",
        "upcoming",
    )
    address = {name: bodies.unique_email(name.replace("_", "-")) for name in names}
    facts, forum = _history(now, address)
    fresh = platform_settings(settings)
    async with running_platform(fresh, notification_in_process=False) as platform:
        await publish(fresh, *facts)  # on the topics before the service ever ran

        async with running_notification(fresh) as notification:
            platform.notification = notification
            old, new = address["old_partner"], address["new_partner"]
            # The registrants' mails, and the partners' invitations where there are any: to
            # a forum that has ended one is planned only when the partner was read first
            # (another topic) — and is about the past.
            long_held = await _outcomes(platform, forum["long_held"], 2, but_invitations=True)
            assert long_held == {
                (address["long_held"], "registration_confirmed"): OLDER,
                (address["long_held"], "forum_thanks"): OLDER,
            }
            cancelled = await _outcomes(platform, forum["cancelled"], 2, but_invitations=True)
            assert cancelled == {
                (address["cancelled"], "registration_confirmed"): OLDER,
                (address["cancelled"], "forum_cancelled"): OLDER,
            }
            announced = await _outcomes(platform, forum["announced"], 2, but_invitations=True)
            assert announced == {
                (address["announced_early"], "registration_confirmed"): OLDER,
                (address["announced_late"], "registration_confirmed"): "sent",
            }
            started = await _outcomes(platform, forum["started"], 2)
            assert started[(address["started"], "registration_confirmed")] == STARTED
            assert started[(old, "forum_invitation")] == "registration for the forum has closed"
            held_lately = await _outcomes(platform, forum["held_lately"], 2)
            assert held_lately[(address["held_lately"], "registration_confirmed")] == STARTED
            assert held_lately[(address["held_lately"], "forum_thanks")] == "sent"
            moved = await _outcomes(platform, forum["moved"], 2)
            assert moved[(address["moved"], "registration_confirmed")] == STARTED
            assert moved[(address["moved"], "forum_thanks")] == (
                "the forum ended more than 7 days ago"
            )
            assert await _outcomes(platform, forum["upcoming"], 3) == {
                (old, "forum_invitation"): "sent",
                (new, "forum_invitation"): "sent",
                (address["upcoming"], "registration_confirmed"): "sent",
            }
            welcomes = await platform.deliveries(kind="partner_welcome")
            assert {d["recipient"]: d["reason"] or d["status"] for d in welcomes} == {
                old: OLDER,
                new: "sent",
            }
            sent = [d for d in await platform.deliveries() if d["status"] != "suppressed"]
            assert {d["status"] for d in sent} == {"sent"}
            assert sorted((d["recipient"], d["kind"]) for d in sent) == sorted(
                [
                    (new, "partner_welcome"),
                    (old, "forum_invitation"),
                    (new, "forum_invitation"),
                    (address["upcoming"], "registration_confirmed"),
                    (address["announced_late"], "registration_confirmed"),
                    (address["held_lately"], "forum_thanks"),
                ]
            )
            for name, each in address.items():
                expected = len([d for d in sent if d["recipient"] == each])
                assert len(await platform.messages(each)) == expected, name
