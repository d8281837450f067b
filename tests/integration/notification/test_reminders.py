"""The reminder before a forum: DIALOGNET_NOTIFICATION_REMINDER_LEAD_SECONDS before its start, to
every confirmed registrant who had registered by then, once — also with two replicas."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.integration.notification.calendars import calendar_of
from tests.integration.notification.conftest import Platform, platform_settings, running_platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import metric_value, new_forum, registered
from tests.polling import until
from tests.service_process import service_process

EMAILS = "dialognet_notification_emails_total"
LEAD = timedelta(days=1)
# How long after the test's start a reminder falls due: enough to register first, on a machine
# under load.
DUE_IN = timedelta(seconds=12)


@pytest.fixture(scope="module")
async def platform(module_settings: Settings) -> AsyncIterator[Platform]:
    settings = platform_settings(
        module_settings, notification_reminder_lead_seconds=int(LEAD.total_seconds())
    )
    async with running_platform(settings) as running:
        yield running


def _forum_due_soon(title: str, capacity: int = 10) -> dict[str, Any]:
    """A forum whose reminder falls due DUE_IN from now; registration stays open past that."""
    starts_in = LEAD + DUE_IN
    return bodies.forum(
        starts_in=starts_in,
        deadline_before_start=timedelta(hours=1),
        capacity=capacity,
        title=title,
    )


async def _due(forum: dict[str, Any]) -> None:
    """Until the forum's reminder has fallen due."""
    due_at = datetime.fromisoformat(forum["starts_at"]) - LEAD

    async def passed() -> bool:
        return datetime.now(UTC) > due_at

    await until(passed, (DUE_IN * 3).total_seconds(), "the reminder's moment", interval=0.2)


async def test_the_reminder_goes_to_who_had_a_seat_when_it_fell_due(platform: Platform) -> None:
    forum = await new_forum(platform.registration, _forum_due_soon("Forum Erinnerung", capacity=1))
    seated, waiting, late = (bodies.unique_email(n) for n in ("sitz", "warte", "spaet"))
    registration = await registered(platform.registration, forum["id"], email=seated)
    await registered(platform.registration, forum["id"], email=waiting)
    await _due(forum)

    reminder = await platform.received_once(seated, "forum_reminder")
    assert reminder.subject.startswith("Erinnerung: Forum Erinnerung am ")
    entry = calendar_of(reminder.message)
    assert entry.starts_at == datetime.fromisoformat(forum["starts_at"])
    assert registration["id"] in entry.uid
    assert f"/registrations/{registration['id']}/cancel?token=" in reminder.text

    await registered(platform.registration, forum["id"], email=late)  # after the moment

    await platform.mail_to(late)  # its waitlist mail: the fact was processed
    deliveries = await platform.settled(3, forum_id=forum["id"])
    reminded = [d["recipient"] for d in deliveries if d["kind"] == "forum_reminder"]
    assert reminded == [seated]
    assert await platform.kinds_to(seated) == ["registration_confirmed", "forum_reminder"]
    assert await platform.kinds_to(waiting) == ["registration_waitlisted"]
    assert await platform.kinds_to(late) == ["registration_waitlisted"]


KINDS = ("registration_confirmed", "forum_reminder")


async def _sent(client: httpx.AsyncClient) -> dict[str, float]:
    """How many mails of each kind this process handed to SMTP."""
    exposition = (await client.get("/metrics")).text
    return {kind: metric_value(exposition, EMAILS, kind=kind, result="sent") for kind in KINDS}


async def test_two_replicas_send_each_reminder_and_each_mail_once(
    platform: Platform, tmp_path: Path
) -> None:
    port = free_port()
    other = platform.settings.model_copy(update={"notification_port": port, "data_dir": tmp_path})
    sent_before = await _sent(platform.notification)
    async with service_process(other, "notification", port, tmp_path / "replica.log") as replica:
        forums = [
            await new_forum(platform.registration, _forum_due_soon(f"Zwei Kopien {n}"))
            for n in range(3)
        ]
        addresses = {
            forum["id"]: [bodies.unique_email("kopie") for _ in range(4)] for forum in forums
        }
        await asyncio.gather(
            *(
                registered(platform.registration, forum_id, email=address)
                for forum_id, each in addresses.items()
                for address in each
            )
        )
        for forum in forums:
            await _due(forum)
            await platform.settled(8, forum_id=forum["id"])

        for each in addresses.values():
            for address in each:
                assert await platform.kinds_to(address) == [
                    "registration_confirmed",
                    "forum_reminder",
                ]
        reminders = await platform.deliveries(kind="forum_reminder")
        assert len([d for d in reminders if d["forum_id"] in addresses]) == 12
        # Each mail was handed to SMTP once, by one of the two (the metric counts per process).
        async with httpx.AsyncClient(base_url=replica.base_url) as client:
            by_replica = await _sent(client)
        by_this_one = {
            kind: count - sent_before[kind]
            for kind, count in (await _sent(platform.notification)).items()
        }
        assert {kind: by_replica[kind] + by_this_one[kind] for kind in KINDS} == {
            "registration_confirmed": 12,
            "forum_reminder": 12,
        }
