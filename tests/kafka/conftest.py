"""Apache Kafka tests: a session's three-node cluster, started only when such a test runs, and
the settings of each service's platform on it (its own database, topics, groups and ACLs)."""

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.runtime.settings import Settings
from tests.conftest import Infra, fresh_database, outside_pytest_tmp, test_settings
from tests.kafka.acls import platform_acls
from tests.kafka.cluster import ApacheKafkaCluster, running_cluster
from tests.kafka.jars import ToolsMissing, kafka_jars

# .ci/run sets it: there, a missing java or mvn fails these tests instead of skipping them.
REQUIRED = os.environ.get("DIALOGNET_REQUIRE_APACHE_KAFKA_TESTS") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.apache_kafka)


def kafka_jars_or_skip() -> Path:
    """The folder of Apache Kafka's jars; the test skipped (failed under .ci/run) with how to
    get them where java or mvn is missing."""
    try:
        return kafka_jars()
    except ToolsMissing as missing:
        if REQUIRED:
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
async def apache_kafka() -> AsyncIterator[ApacheKafkaCluster]:
    """Three KRaft nodes (broker and controller each), or a skip where java/mvn are missing."""
    lib = kafka_jars_or_skip()
    with outside_pytest_tmp() as folder:
        async with running_cluster(lib, folder) as cluster:
            yield cluster


@dataclass(frozen=True)
class KafkaPlatform:
    """One platform's settings on the cluster; each service logs in as its own user."""

    cluster: ApacheKafkaCluster
    base: Settings

    def settings(self, service: str, **overrides: object) -> Settings:
        return self.cluster.service_settings(self.base, service, **overrides)


@pytest.fixture(scope="module")
async def kafka_platform(
    apache_kafka: ApacheKafkaCluster, infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[KafkaPlatform]:
    """A platform per module: its own database, topic prefix, consumer groups and their ACLs."""
    async with fresh_database(infra) as database_url:
        prefix = f"k{secrets.token_hex(4)}."
        base = test_settings(infra, database_url, prefix, tmp_path_factory.mktemp("kafka"))
        apache_kafka.grant(platform_acls(prefix, base.kafka_consumer_group_prefix))
        yield KafkaPlatform(apache_kafka, base)
