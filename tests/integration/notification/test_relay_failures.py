"""When the mail relay fails: a relay that refuses for a while (451, then not even reachable)
gets every mail once it accepts again, retried from the deliveries table while the consumer goes
on; a relay's final no (550) ends a delivery `failed` with notification.failed, and staff send
it again once the cause is mended."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from services.runtime.settings import Settings
from tests.integration.notification.conftest import (
    Platform,
    Received,
    platform_settings,
    running_platform,
)
from tests.integration.notification.smtp_gate import TRY_LATER, SmtpGate, smtp_gate
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    metric_value,
    new_forum,
    new_partner,
    ok,
    problem,
    registered,
)
from tests.kafka_helpers import consume_until

UNSUBSCRIBED = "the recipient unsubscribed from invitations"
RETRY_WITHIN_SECONDS = 60.0


@pytest.fixture(scope="module")
async def gated(module_settings: Settings) -> AsyncIterator[tuple[SmtpGate, Platform]]:
    """The platform with its mail going through a gate the tests open and close."""
    settings = platform_settings(module_settings)
    async with smtp_gate(settings.mailbox_smtp_port) as gate:
        through_gate = settings.model_copy(update={"smtp_url": SecretStr(gate.url)})
        async with running_platform(through_gate) as platform:
            yield gate, platform


async def _metric(platform: Platform, name: str, **labels: str) -> float:
    exposition = (await platform.notification.get("/metrics")).text
    return metric_value(exposition, name, **labels)


async def _delivery(platform: Platform, what: str, **expected: Any) -> dict[str, Any]:
    """The first delivery with these values (a callable value: a test of the field's value)."""

    def matches(delivery: dict[str, Any]) -> bool:
        return all(
            value(delivery[name]) if callable(value) else delivery[name] == value
            for name, value in expected.items()
        )

    return await platform.delivery_of(matches, what)


def _unsubscribe_link(invitation: Received) -> str:
    return str(invitation.message["List-Unsubscribe"]).removeprefix("<").removesuffix(">")


async def test_a_relay_that_refuses_for_a_while_gets_every_mail_once_it_accepts_again(
    gated: tuple[SmtpGate, Platform],
) -> None:
    gate, platform = gated
    partner = bodies.unique_email("partner")
    await new_partner(platform.registration, with_contact=bodies.contact(email=partner))
    await platform.mail_to(partner)  # welcomed: notification knows the partner
    earlier = await new_forum(platform.registration, bodies.forum(title="Vorher"))
    invitation = await platform.received_once(partner, "forum_invitation", earlier["id"])
    retried_before = await _metric(
        platform,
        "dialognet_notification_emails_total",
        kind="registration_confirmed",
        result="retried",
    )
    gate.answer = TRY_LATER
    forum = await new_forum(platform.registration, bodies.forum(capacity=1, title="Ausfall"))
    first, second = bodies.unique_email("erste"), bodies.unique_email("zweite")

    made = await registered(platform.registration, forum["id"], email=first)

    waiting = await _delivery(
        platform, "a confirmation retrying", recipient=first, status="retrying"
    )
    assert waiting["reason"] == TRY_LATER.replace("451", "SMTP 451:", 1)
    assert waiting["next_attempt_at"] is not None
    # The consumer goes on meanwhile: these facts are processed while the mail waits.
    ok(
        await platform.registration.public.post(
            f"/v1/registrations/{made['id']}/cancel", json={"cancel_token": made["cancel_token"]}
        )
    )
    await registered(platform.registration, forum["id"], email=second)
    await _delivery(
        platform, "the cancellation planned", recipient=first, kind="registration_cancelled"
    )
    await _delivery(
        platform, "the second confirmation", recipient=second, kind="registration_confirmed"
    )
    later = await new_forum(platform.registration, bodies.forum(title="Nachher"))
    await _delivery(platform, "the invitation planned", recipient=partner, forum_id=later["id"])
    async with httpx.AsyncClient(timeout=30) as mail_program:  # unsubscribes meanwhile
        clicked = await mail_program.post(
            _unsubscribe_link(invitation), content=b"List-Unsubscribe=One-Click"
        )
        assert clicked.status_code == 200, clicked.text
    await gate.down()  # and now the relay is not even reachable

    await _delivery(
        platform,
        "a retry that found no relay",
        recipient=first,
        kind="registration_confirmed",
        status="retrying",
        reason=lambda reason: (reason or "").startswith("SMTPConnectError: "),
    )
    assert await _metric(platform, "dialognet_notification_retry_queue_depth") >= 1
    assert (
        await _metric(
            platform,
            "dialognet_notification_emails_total",
            kind="registration_confirmed",
            result="retried",
        )
        > retried_before
    )
    assert await platform.messages(first) == []

    gate.answer = None
    await gate.up()

    await platform.settled(3, timeout=RETRY_WITHIN_SECONDS, forum_id=forum["id"])
    # In the order they were planned: the cancellation's CANCEL after the confirmation's REQUEST.
    assert await platform.kinds_to(first) == ["registration_confirmed", "registration_cancelled"]
    assert await platform.kinds_to(second) == ["registration_confirmed"]
    [skipped] = await platform.settled(1, timeout=RETRY_WITHIN_SECONDS, forum_id=later["id"])
    assert (skipped["status"], skipped["reason"]) == ("suppressed", UNSUBSCRIBED)
    assert await platform.kinds_to(partner) == ["partner_welcome", "forum_invitation"]


async def _on_notifications(platform: Platform, type_name: str, delivery_id: str) -> Any:
    """The notification.* fact of this delivery on dialognet.notifications."""
    settings = platform.settings

    def of_delivery(message: Any) -> bool:
        return bool(
            message.headers.get("type") == type_name
            and message.value["data"]["delivery_id"] == delivery_id
        )

    messages = await consume_until(
        settings.bootstrap(), f"{settings.topic_prefix}notifications", of_delivery, timeout=30
    )
    [fact] = [message for message in messages if of_delivery(message)]
    return fact


async def test_a_final_no_ends_failed_and_staff_send_it_again_once_mended(
    gated: tuple[SmtpGate, Platform],
) -> None:
    gate, platform = gated
    address = bodies.unique_email("unbekannt")
    gate.refused.add(address)
    forum = await new_forum(platform.registration, bodies.forum(title="Forum Abgelehnt"))
    failed_before = await _metric(
        platform,
        "dialognet_notification_emails_total",
        kind="registration_confirmed",
        result="failed",
    )

    await registered(platform.registration, forum["id"], email=address)

    failed = await _delivery(platform, "a failed delivery", recipient=address, status="failed")
    assert failed["reason"] == "recipient refused: 550"
    assert failed["attempts"] == 1  # a final no is not tried again
    assert failed["failed_at"] is not None
    fact = await _on_notifications(platform, "notification.failed", failed["id"])
    assert fact.key == failed["recipient_hash"]
    assert fact.value["data"]["error"] == "recipient refused: 550"
    assert fact.value["data"]["template"] == "registration_confirmed"
    assert fact.value["data"]["attempts"] == 1
    assert address not in str(fact.value)  # the recipient is named by its hash only
    assert (
        await _metric(
            platform,
            "dialognet_notification_emails_total",
            kind="registration_confirmed",
            result="failed",
        )
        == failed_before + 1
    )
    listed = await platform.deliveries(status="failed", forum_id=forum["id"])
    assert [d["id"] for d in listed] == [failed["id"]]  # how ops find it
    assert await platform.messages(address) == []

    gate.refused.discard(address)  # the cause is mended (the mailbox exists now)
    retried = await platform.notification.post(f"/v1/deliveries/{failed['id']}/retry")

    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] in ("queued", "sending", "sent")
    assert retried.json()["reason"] is None
    await platform.received_once(address, "registration_confirmed")
    sent = await _on_notifications(platform, "notification.sent", failed["id"])
    assert sent.value["data"]["source_event_type"] == "registration.made"
    [done] = await platform.settled(1, forum_id=forum["id"], kind="registration_confirmed")
    assert (done["status"], done["attempts"]) == ("sent", 1)
    again = await platform.notification.post(f"/v1/deliveries/{failed['id']}/retry")
    assert "only a failed delivery can be retried" in problem(again, 409, "delivery_id")["detail"]
    problem(await platform.notification.post(f"/v1/deliveries/{uuid4()}/retry"), 404)


@pytest.fixture
async def hung(settings: Settings) -> AsyncIterator[tuple[SmtpGate, Platform]]:
    """A platform of its own, whose deliveries may be claimed for 3 s (one connection)."""
    base = platform_settings(
        settings, notification_sending_timeout_seconds=3.0, notification_smtp_connections=1
    )
    async with smtp_gate(base.mailbox_smtp_port) as gate:
        through_gate = base.model_copy(update={"smtp_url": SecretStr(gate.url)})
        async with running_platform(through_gate) as platform:
            yield gate, platform


async def _longest_claim_seconds(platform: Platform) -> float:
    """How long the oldest claim of a delivery still `sending` has been held."""
    assert platform.settings.database_url is not None
    conn = await asyncpg.connect(platform.settings.database_url.get_secret_value())
    try:
        held: float | None = await conn.fetchval(
            "SELECT extract(epoch FROM now() - min(claimed_at)) FROM notification.deliveries"
            " WHERE status = 'sending'"
        )
    finally:
        await conn.close()
    return held or 0.0


async def test_a_relay_that_hangs_holds_no_claim_past_the_sending_timeout(
    hung: tuple[SmtpGate, Platform],
) -> None:
    gate, platform = hung
    gate.hanging = True
    forum = await new_forum(platform.registration, bodies.forum(title="Hängt"))
    addresses = [bodies.unique_email("haengt") for _ in range(5)]
    for address in addresses:
        await registered(platform.registration, forum["id"], email=address)
    await _delivery(platform, "a mail at the hanging relay", status="retrying")

    # Longer than the sending timeout, watched: past it, another replica would take the mail
    # too, and send it a second time once the relay answers again.
    deadline = asyncio.get_running_loop().time() + 8
    while asyncio.get_running_loop().time() < deadline:
        assert await _longest_claim_seconds(platform) < 3.0
        await asyncio.sleep(0.2)
    assert "the relay did not answer within 1 s" in {
        d["reason"] for d in await platform.deliveries(forum_id=forum["id"])
    }

    gate.hanging = False

    await platform.settled(5, RETRY_WITHIN_SECONDS, forum_id=forum["id"])
    for address in addresses:
        assert await platform.kinds_to(address) == ["registration_confirmed"]
