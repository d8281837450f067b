"""kill -9 the notification service in the middle of a burst of mail, then start it again: no
mail is lost, and none is sent twice except possibly the one being sent at the kill, which then
carries the Message-ID of the first (the service runs as its own process here)."""

import asyncio
from collections import Counter
from pathlib import Path

import psutil
from pydantic import SecretStr

from services.runtime.embedded import is_alive
from services.runtime.settings import Settings
from tests.integration.notification.conftest import platform_settings, running_platform
from tests.integration.notification.smtp_gate import smtp_gate
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, registered
from tests.polling import until
from tests.service_process import service_process

BEFORE_THE_KILL = 40
WHILE_DOWN = 15
# A relay that takes this long for each message: the burst lasts seconds, the kill lands in it.
SLOW_RELAY_SECONDS = 0.05


async def test_a_kill_in_the_middle_of_a_burst_loses_no_mail_and_sends_none_twice(
    settings: Settings, tmp_path: Path
) -> None:
    base = platform_settings(
        settings,
        # One connection: at most one mail is being sent at any moment, the one a kill can
        # leave unrecorded; left `sending`, it is taken again after this timeout.
        notification_smtp_connections=1,
        notification_sending_timeout_seconds=3.0,
    )
    async with smtp_gate(base.mailbox_smtp_port) as gate:
        gate.delay_seconds = SLOW_RELAY_SECONDS
        gated = base.model_copy(update={"smtp_url": SecretStr(gate.url)})
        async with running_platform(gated, notification_in_process=False) as platform:
            forum = await new_forum(platform.registration, bodies.forum(capacity=500))
            addresses = [bodies.unique_email("burst") for _ in range(BEFORE_THE_KILL + WHILE_DOWN)]
            port, log = gated.notification_port, tmp_path / "notification.log"
            async with service_process(gated, "notification", port, log) as first:
                await asyncio.gather(
                    *(
                        registered(platform.registration, forum["id"], email=address)
                        for address in addresses[:BEFORE_THE_KILL]
                    )
                )

                async def sending() -> bool:
                    return gate.answers.count("250") >= 5

                await until(sending, 60, "the burst under way", interval=0.01)
                children = psutil.Process(first.process.pid).children(recursive=True)
                assert children, "the mail writing process"
                first.kill()

                async def no_child_left() -> bool:
                    return not [child for child in children if is_alive(child)]

                await until(no_child_left, 10, "the writing process gone with the service")
            passed_before_restart = gate.answers.count("250")
            assert passed_before_restart < BEFORE_THE_KILL, "the kill came after the burst"
            for address in addresses[BEFORE_THE_KILL:]:  # facts while nobody consumes them
                await registered(platform.registration, forum["id"], email=address)

            async with service_process(gated, "notification", port, log):
                deliveries = await platform.settled(len(addresses), 90, forum_id=forum["id"])

                assert {d["status"] for d in deliveries} == {"sent"}
                received = Counter[str]()
                message_ids: dict[str, set[str]] = {}
                for address in addresses:
                    messages = await platform.messages(address)
                    received[address] = len(messages)
                    message_ids[address] = {message["message_id"] for message in messages}
                assert min(received.values()) == 1, "a mail was lost"
                twice = [address for address, count in received.items() if count > 1]
                assert len(twice) <= 1, twice
                assert all(len(message_ids[address]) == 1 for address in twice)
                assert max(received.values()) <= 2
