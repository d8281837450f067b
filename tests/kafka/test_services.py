"""Every service on Apache Kafka through SASL_SSL, each logged in as its own user with its ACLs:
a registration over HTTP becomes a fact on the replicated topic, an e-mail in the mail sink and
a number in the reporting service's report."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from schemas.topics import Topic, all_topics, retention_by_topic, topic_name
from services.runtime import kafka
from services.runtime.settings import Settings
from tests.integration.conftest import RunningService, running_registration
from tests.integration.notification.conftest import platform_settings, running_notification
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, of_type, registered
from tests.integration.reporting.conftest import (
    RunningReporting,
    reporting_settings,
    running_reporting,
)
from tests.kafka.conftest import KafkaPlatform
from tests.kafka_helpers import consume_until
from tests.mail_sink import RunningMailbox, running_mailbox
from tests.polling import until


@dataclass
class Services:
    registration: RunningService
    reporting: RunningReporting
    mailbox: RunningMailbox
    settings: dict[str, Settings]


@contextlib.asynccontextmanager
async def running_services(platform: KafkaPlatform) -> AsyncIterator[Services]:
    base = reporting_settings(platform_settings(platform.base))
    settings = {
        service: platform.cluster.service_settings(base, service)
        for service in ("registration", "notification", "reporting")
    }
    async with (
        running_mailbox(settings["notification"]) as mailbox,
        running_registration(settings["registration"]) as registration,
        running_notification(settings["notification"]),
        running_reporting(settings["reporting"]) as reporting,
    ):
        yield Services(registration, reporting, mailbox, settings)


@pytest.fixture(scope="module")
async def services(kafka_platform: KafkaPlatform) -> AsyncIterator[Services]:
    async with running_services(kafka_platform) as running:
        yield running


async def test_a_registration_reaches_every_service_through_sasl_ssl(
    services: Services, kafka_platform: KafkaPlatform
) -> None:
    forum = await new_forum(services.registration, bodies.forum(capacity=10, title="Kafka"))
    email = bodies.unique_email("kafka")
    made = await registered(services.registration, forum["id"], email=email, attendees=2)

    topic = topic_name(Topic.REGISTRATIONS, kafka_platform.base.topic_prefix)
    facts = await consume_until(
        kafka_platform.cluster.admin_bootstrap,
        topic,
        of_type("registration.made", registration_id=made["id"]),
        timeout=30,
    )
    assert facts[-1].key == forum["id"]

    async def mailed() -> bool:
        found = await services.mailbox.http.get("/api/messages", params={"to": email})
        return bool(found.json()["items"])

    await until(mailed, 60, f"the confirmation to {email}", interval=0.2)

    async def reported() -> bool:
        report = await services.reporting.report(f"forums/{forum['id']}")
        return report["seats_confirmed"] == 2

    await until(reported, 60, "the forum's two seats in the report", interval=0.2)


async def test_the_services_created_their_topics_replicated_three_times(
    services: Services, kafka_platform: KafkaPlatform
) -> None:
    """With the partitions, min.insync.replicas and retention they were created with
    (services/runtime/kafka_topics.py), as the brokers report them."""
    cluster, prefix = kafka_platform.cluster, kafka_platform.base.topic_prefix
    async with cluster.admin() as admin:
        described = await admin.describe_topics(list(all_topics(prefix)))
    assert {topic["topic"] for topic in described} == set(all_topics(prefix))
    for topic in described:
        assert topic["error_code"] == 0, topic
        assert len(topic["partitions"]) == all_topics(prefix)[topic["topic"]]
        for partition in topic["partitions"]:
            assert sorted(partition["replicas"]) == [1, 2, 3], (topic["topic"], partition)
    retention = retention_by_topic(prefix)
    for name in all_topics(prefix):
        configs = await cluster.topic_configs(name)
        assert configs["min.insync.replicas"] == "2"
        wanted = retention[name].topic_configs()
        assert {config: configs[config] for config in wanted} == wanted, name


async def test_the_producers_are_idempotent(services: Services) -> None:
    """The relay's producer (kafka.new_producer, as every service's) got a producer id from the
    brokers: InitProducerId, which Tansu refuses, succeeded."""
    settings = services.settings["registration"]
    producer = kafka.new_producer(settings)
    await producer.start()
    try:
        topic = topic_name(Topic.INTAKE_REJECTED, settings.topic_prefix)
        await producer.send_and_wait(topic, b"{}", key=b"idempotence")
        assert producer._txn_manager is not None
        assert producer._txn_manager.producer_id >= 0
    finally:
        await producer.stop()
