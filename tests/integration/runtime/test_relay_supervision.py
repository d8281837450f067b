"""The registration service supervises its relay: restarted after a crash, unready while down."""

import pytest
from prometheus_client import REGISTRY

from services.runtime.outbox import OutboxRelay
from services.runtime.settings import Settings
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration.intake_commands import forum_body
from tests.kafka_helpers import consume_until, read_to_end
from tests.polling import until


class BrokenRounds:
    """Makes every relay round raise an error the relay does not expect, until repaired."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.broken = True
        publish_batch = OutboxRelay.publish_batch

        async def broken_or_not(relay: OutboxRelay) -> int:
            if self.broken:
                raise RuntimeError("injected: a bug in the relay's round")
            return await publish_batch(relay)

        monkeypatch.setattr(OutboxRelay, "publish_batch", broken_or_not)


def relay_restarts() -> float:
    value = REGISTRY.get_sample_value(
        "dialognet_background_task_restarts_total", {"task": "outbox_relay"}
    )
    return value or 0.0


async def readiness(service: RunningService) -> tuple[int, dict[str, str]]:
    response = await service.public.get("/health/ready")
    return response.status_code, response.json()["checks"]


async def test_a_crashed_relay_is_restarted_and_unready_meanwhile(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds = BrokenRounds(monkeypatch)
    forums_topic = f"{settings.topic_prefix}forums"
    restarts_before = relay_restarts()

    async with running_registration(settings) as service:

        async def unready_naming_the_relay() -> bool:
            status, checks = await readiness(service)
            return status == 503 and checks == {
                "database": "ok",
                "access": "ok",
                "broker": "ok",
                "outbox_relay": "failed: TaskNotRunning",
                "intake_consumer": "ok",
            }

        await until(unready_naming_the_relay, 10.0, "/health/ready fails naming the relay")
        forum = await service.staff.post("/v1/forums", json=forum_body())
        assert forum.status_code == 201, forum.text
        assert await read_to_end(settings.bootstrap(), forums_topic) == []  # a crashed relay

        rounds.broken = False

        [published] = await consume_until(settings.bootstrap(), forums_topic, 1, timeout=30.0)
        assert published.value["data"]["forum_id"] == forum.json()["id"]

        async def ready() -> bool:
            return (await readiness(service))[0] == 200

        await until(ready, 10.0, "/health/ready answers 200 again")
    assert relay_restarts() > restarts_before
