"""What ops see: the notification metrics move with the mail (sent and retried by kind, send
duration, event → sent latency, retry queue depth, oldest queued age, consumer lag per topic),
and readiness names the part that is down — the mail relay among database and broker."""

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from services.runtime.settings import Settings
from tests.integration.notification.conftest import Platform, platform_settings, running_platform
from tests.integration.notification.smtp_gate import TRY_LATER, SmtpGate, smtp_gate
from tests.integration.registration import bodies
from tests.integration.registration.steps import metric_value, new_forum, registered
from tests.polling import until

EMAILS = "dialognet_notification_emails_total"


@pytest.fixture(scope="module")
async def gated(module_settings: Settings) -> AsyncIterator[tuple[SmtpGate, Platform]]:
    settings = platform_settings(module_settings)
    async with smtp_gate(settings.mailbox_smtp_port) as gate:
        through_gate = settings.model_copy(update={"smtp_url": SecretStr(gate.url)})
        async with running_platform(through_gate) as platform:
            yield gate, platform


async def _metrics(platform: Platform) -> str:
    response = await platform.notification.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


async def test_the_metrics_move_with_the_mail(gated: tuple[SmtpGate, Platform]) -> None:
    gate, platform = gated
    before = await _metrics(platform)
    forum = await new_forum(platform.registration, bodies.forum(title="Metriken"))
    first = bodies.unique_email("metrik")

    await registered(platform.registration, forum["id"], email=first)

    await platform.received_once(first, "registration_confirmed")
    after = await _metrics(platform)
    for name, labels in (
        (EMAILS, {"kind": "registration_confirmed", "result": "sent"}),
        ("dialognet_notification_send_duration_seconds_count", {}),
        ("dialognet_notification_event_to_sent_seconds_count", {}),
        ("dialognet_consumer_messages_total", {"consumer": "notification", "outcome": "processed"}),
        ("dialognet_consumer_event_latency_seconds_count", {"consumer": "notification"}),
    ):
        assert metric_value(after, name, **labels) > metric_value(before, name, **labels), name
    topic = f"{platform.settings.topic_prefix}registrations"
    assert "dialognet_consumer_lag_messages" in after
    assert any(
        line.startswith("dialognet_consumer_lag_messages{")
        and 'consumer="notification"' in line
        and f'topic="{topic}"' in line
        for line in after.splitlines()
    ), "no lag of the registrations topic"

    gate.answer = TRY_LATER
    waiting = bodies.unique_email("wartet")
    await registered(platform.registration, forum["id"], email=waiting)

    async def queue_grew() -> bool:
        exposition = await _metrics(platform)
        return (
            metric_value(exposition, "dialognet_notification_retry_queue_depth") >= 1
            and metric_value(exposition, "dialognet_notification_oldest_queued_age_seconds") > 1
        )

    await until(queue_grew, 30, "the retry queue and the oldest age", interval=0.2)
    retried = metric_value(
        await _metrics(platform), EMAILS, kind="registration_confirmed", result="retried"
    )
    assert retried >= 1
    gate.answer = None
    await platform.received_once(waiting, "registration_confirmed")

    async def queue_empty() -> bool:
        exposition = await _metrics(platform)
        return (
            metric_value(exposition, "dialognet_notification_retry_queue_depth") == 0
            and metric_value(exposition, "dialognet_notification_oldest_queued_age_seconds") == 0
        )

    await until(queue_empty, 30, "the queue empty again", interval=0.2)


async def test_readiness_names_the_mail_relay_when_it_is_down(
    gated: tuple[SmtpGate, Platform],
) -> None:
    gate, platform = gated
    ready = await platform.notification.get("/health/ready")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert {"database", "broker", "smtp", "fact_consumer", "sender", "reminders"} <= set(checks)
    assert set(checks.values()) == {"ok"}

    await gate.down()
    try:
        down = await platform.notification.get("/health/ready")
        assert down.status_code == 503, down.text
        assert down.json()["checks"]["smtp"].startswith("failed")
        assert down.json()["checks"]["database"] == "ok"
        live = await platform.notification.get("/health/live")
        assert live.status_code == 200
    finally:
        await gate.up()

    back = await platform.notification.get("/health/ready")
    assert back.status_code == 200, back.text
