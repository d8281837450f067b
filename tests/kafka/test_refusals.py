"""What a service says when the cluster refuses it, and what it never says: a wrong password
stops it at start-up with a message naming the user and the settings to check; a topic its user
may not write is named with the missing ACL; the SASL password is in no log line of a service
run, not even at DEBUG."""

import asyncio
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN
from tests.integration.registration import bodies
from tests.integration.registration.steps import ok
from tests.integration.runtime.conftest import event, outbox_in, running, stop
from tests.kafka.conftest import KafkaPlatform
from tests.kafka_helpers import read_to_end
from tests.polling import until
from tests.service_process import service_process, start_service

EXIT_WITHIN_SECONDS = 60.0
STAFF = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


def _reporting(platform: KafkaPlatform, **overrides: object) -> Settings:
    port = free_port()
    return platform.settings(
        "reporting",
        reporting_port=port,
        reporting_public_base_url=f"http://127.0.0.1:{port}",
        **overrides,
    )


async def _exit_code(process: "subprocess.Popen[bytes]", timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"still running after {timeout}s")
        await asyncio.sleep(0.2)  # polling interval while the service starts
    return process.returncode


async def test_a_wrong_password_stops_the_service_at_start_with_a_clear_error(
    kafka_platform: KafkaPlatform, tmp_path: Path
) -> None:
    wrong = "wrong-password-4711"
    settings = _reporting(kafka_platform, kafka_sasl_password=SecretStr(wrong))
    log_path = tmp_path / "reporting.log"
    process = start_service(settings, "reporting", log_path, log_level="DEBUG")

    assert await _exit_code(process, EXIT_WITHIN_SECONDS) != 0
    output = log_path.read_text()
    assert "refused the login of user 'reporting' (SCRAM-SHA-512)" in output
    assert "check DIALOGNET_KAFKA_SASL_USERNAME and DIALOGNET_KAFKA_SASL_PASSWORD" in output
    assert wrong not in output


async def test_the_password_is_in_no_log_of_a_service_run(
    kafka_platform: KafkaPlatform, tmp_path: Path
) -> None:
    settings = kafka_platform.settings("registration", registration_port=free_port())
    password = kafka_platform.cluster.users["registration"].password
    log_path = tmp_path / "registration.log"
    async with (
        service_process(
            settings, "registration", settings.registration_port, log_path, log_level="DEBUG"
        ) as service,
        httpx.AsyncClient(base_url=service.base_url, headers=STAFF) as staff,
    ):
        ok(await staff.post("/v1/forums", json=bodies.forum()), 201)
    output = log_path.read_text()
    assert "SaslAuthenticateRequest" in output  # DEBUG shows the login it did
    assert password not in output


async def test_writing_a_topic_it_does_not_own_is_refused_and_named(
    kafka_platform: KafkaPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """Reporting's user may only read: its relay publishing a forum fact is refused by the
    broker, the log names the topic and the missing ACL, and nothing reaches the topic."""
    settings = kafka_platform.settings("reporting", outbox_poll_interval_seconds=0.2)
    async with outbox_in(settings) as outbox:
        await outbox.append([event("forum-k", 0)])
        async with outbox.relay(poll_interval_seconds=0.2) as relay:
            task = await running(relay)
            wanted = f"does not allow this service's Kafka user to write {outbox.topic()}"

            async def said() -> bool:
                return any(wanted in record.getMessage() for record in caplog.records)

            try:
                await until(said, 30, "the refusal in the log", interval=0.1)
            finally:
                await stop(task)
        assert "(TopicAuthorizationFailed): it needs the WRITE ACL there" in caplog.text
        assert await outbox.unpublished() == 1
    on_topic = await read_to_end(kafka_platform.cluster.admin_bootstrap, outbox.topic())
    assert [message for message in on_topic if message.key == "forum-k"] == []
