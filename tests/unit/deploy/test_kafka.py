"""Kafka in deploy/: the Strimzi cluster, a KafkaTopic for every topic of the contract, a
KafkaUser per service with exactly the ACLs the Apache Kafka tests grant, and the same topics,
users and ACLs for the compose cluster (deploy/kafka/)."""

from typing import Any

import pytest

from schemas.topics import all_topics, retention_by_topic
from services.runtime.settings import Settings
from tests.kafka.acls import SERVICES, Acl, platform_acls, service_acls
from tests.unit.deploy.deploy_files import (
    BASE,
    KAFKA_FILES,
    OVERLAYS,
    TOPIC_PREFIX,
    broker_properties,
    container,
    objects,
    one,
    overlay,
    rendered,
    tab_separated,
)

RENDERED = {
    "base": lambda: rendered(BASE),
    **{name: (lambda n=name: overlay(n)) for name in OVERLAYS},
}
REPLICATION = 3
MIN_INSYNC = 2
# Strimzi's spelling of the tests' ACL fields.
PATTERN_TYPES = {"literal": "LITERAL", "prefix": "PREFIXED"}


def rendered_as(name: str) -> tuple[dict[str, Any], ...]:
    return RENDERED[name]()


def settings_map(documents: tuple[dict[str, Any], ...]) -> dict[str, str]:
    data: dict[str, str] = one(documents, "ConfigMap", "dialognet-settings")["data"]
    return data


def prefixes(documents: tuple[dict[str, Any], ...]) -> tuple[str, str]:
    """(topic prefix, consumer group prefix) the services run with there."""
    settings = settings_map(documents)
    default_groups = Settings.model_fields["kafka_consumer_group_prefix"].default
    return (
        settings["DIALOGNET_TOPIC_PREFIX"],
        settings.get("DIALOGNET_KAFKA_CONSUMER_GROUP_PREFIX", default_groups),
    )


def kafka_topics(documents: tuple[dict[str, Any], ...]) -> dict[str, dict[str, Any]]:
    """The KafkaTopics' specs by topic name."""
    return {
        topic["spec"].get("topicName", key): topic["spec"]
        for key, topic in objects(documents, "KafkaTopic").items()
    }


def retention_of(spec: dict[str, Any]) -> dict[str, str]:
    """A KafkaTopic's retention settings, spelled as the contract's topic_configs() spells them."""
    return {name: str(spec["config"][name]) for name in ("retention.ms", "segment.ms")}


# --- topics -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERED)
def test_every_topic_of_the_contract_has_a_kafka_topic(name: str) -> None:
    documents = rendered_as(name)
    topic_prefix, _ = prefixes(documents)
    expected = all_topics(topic_prefix)  # the facts, intake, intake.rejected and every .dlq
    topics = objects(documents, "KafkaTopic")
    names = {topic["spec"].get("topicName", key): topic for key, topic in topics.items()}
    assert set(names) == set(expected)
    (cluster,) = objects(documents, "Kafka")
    for topic_name_, topic in names.items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster
        assert topic["spec"]["partitions"] == expected[topic_name_], topic_name_
        assert topic["spec"]["replicas"] == REPLICATION
        assert topic["spec"]["config"]["min.insync.replicas"] == MIN_INSYNC


@pytest.mark.parametrize("name", RENDERED)
def test_the_kafka_topics_keep_what_the_contract_says(name: str) -> None:
    """retention.ms and segment.ms of schemas/topics.py (RETENTION), which says why."""
    documents = rendered_as(name)
    topic_prefix, _ = prefixes(documents)
    retention = retention_by_topic(topic_prefix)
    for topic, spec in kafka_topics(documents).items():
        assert retention_of(spec) == retention[topic].topic_configs(), topic


def test_compose_creates_the_topics_of_the_contract() -> None:
    """deploy/kafka/topics.tsv: name, partitions, retention.ms, segment.ms of each topic."""
    partitions, retention = all_topics(TOPIC_PREFIX), retention_by_topic(TOPIC_PREFIX)
    rows = tab_separated(KAFKA_FILES / "topics.tsv")
    assert sorted(row[0] for row in rows) == sorted(partitions)
    for topic, count, retention_ms, segment_ms in rows:
        assert int(count) == partitions[topic], topic
        configs = {"retention.ms": retention_ms, "segment.ms": segment_ms}
        assert configs == retention[topic].topic_configs(), topic


# --- users and ACLs -----------------------------------------------------------------------


def acls_of(user: dict[str, Any]) -> set[Acl]:
    """A KafkaUser's ACLs in the tests' terms: one Acl per operation."""
    principal = f"User:{user['metadata']['name']}"
    found = set()
    for rule in user["spec"]["authorization"]["acls"]:
        assert rule.get("type", "allow") == "allow"
        assert rule.get("host", "*") == "*"
        resource = rule["resource"]
        for operation in rule["operations"]:
            found.add(
                Acl(
                    principal,
                    resource["type"].upper(),
                    PATTERN_TYPES[resource.get("patternType", "literal")],
                    resource["name"],
                    operation.upper(),
                )
            )
    return found


@pytest.mark.parametrize("name", RENDERED)
def test_each_kafka_user_has_exactly_the_acls_the_tests_grant(name: str) -> None:
    documents = rendered_as(name)
    topic_prefix, group_prefix = prefixes(documents)
    users = objects(documents, "KafkaUser")
    assert set(users) == set(SERVICES)
    (cluster,) = objects(documents, "Kafka")
    for service, user in users.items():
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == cluster
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["type"] == "simple"
        granted_in_tests = set(service_acls(service, topic_prefix, group_prefix))
        assert acls_of(user) == granted_in_tests, service


@pytest.mark.parametrize("name", RENDERED)
def test_each_service_logs_in_as_its_own_kafka_user(name: str) -> None:
    documents = rendered_as(name)
    for service, deployment in objects(documents, "Deployment").items():
        env = {entry["name"]: entry for entry in container(deployment)["env"]}
        assert env["DIALOGNET_KAFKA_SASL_USERNAME"]["value"] == service
        password = env["DIALOGNET_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": service, "key": "password"}
        assert service in objects(documents, "KafkaUser")


def test_compose_grants_the_acls_the_tests_grant() -> None:
    lines = {"\t".join(row) for row in tab_separated(KAFKA_FILES / "acls.tsv")}
    assert lines == {acl.line() for acl in platform_acls(TOPIC_PREFIX, "")}


def test_compose_brokers_know_every_service_user() -> None:
    script = (KAFKA_FILES / "start-broker.sh").read_text()
    for service in SERVICES:
        assert f'--add-scram "SCRAM-SHA-512=[name={service},password=${{' in script, service


# --- the clusters ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERED)
def test_the_strimzi_cluster_is_kraft_with_scram_over_tls(name: str) -> None:
    documents = rendered_as(name)
    ((cluster_name, cluster),) = objects(documents, "Kafka").items()
    pools = [
        pool
        for pool in objects(documents, "KafkaNodePool").values()
        if pool["metadata"]["labels"]["strimzi.io/cluster"] == cluster_name
    ]
    roles = {role for pool in pools for role in pool["spec"]["roles"]}
    assert roles == {"controller", "broker"}
    assert sum(pool["spec"]["replicas"] for pool in pools if "broker" in pool["spec"]["roles"]) >= 3
    config = cluster["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == REPLICATION
    assert config["min.insync.replicas"] == MIN_INSYNC
    assert config["auto.create.topics.enable"] is False
    assert cluster["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert set(cluster["spec"]["entityOperator"]) >= {"topicOperator", "userOperator"}
    (listener,) = cluster["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True
    assert listener["authentication"]["type"] == "scram-sha-512"
    settings = settings_map(documents)
    assert (
        settings["DIALOGNET_KAFKA_BOOTSTRAP"]
        == f"{cluster_name}-kafka-bootstrap:{listener['port']}"
    )
    assert settings["DIALOGNET_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert settings["DIALOGNET_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert settings["DIALOGNET_KAFKA_REPLICATION_FACTOR"] == str(REPLICATION)
    assert settings["DIALOGNET_KAFKA_MIN_INSYNC_REPLICAS"] == str(MIN_INSYNC)


@pytest.mark.parametrize("name", RENDERED)
def test_the_pods_mount_the_cluster_ca_where_the_settings_say(name: str) -> None:
    documents = rendered_as(name)
    (cluster,) = objects(documents, "Kafka")
    cafile = settings_map(documents)["DIALOGNET_KAFKA_SSL_CAFILE"]
    for deployment in objects(documents, "Deployment").values():
        spec = deployment["spec"]["template"]["spec"]
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        (mount,) = [
            m for m in container(deployment)["volumeMounts"] if cafile.startswith(m["mountPath"])
        ]
        secret = volumes[mount["name"]]["secret"]
        assert secret["secretName"] == f"{cluster}-cluster-ca-cert"
        (item,) = secret["items"]
        assert f"{mount['mountPath']}/{item['path']}" == cafile
        assert item["key"] == "ca.crt"


def test_compose_brokers_replicate_as_the_tests_do() -> None:
    properties = broker_properties()
    assert properties["process.roles"] == "broker,controller"
    assert properties["default.replication.factor"] == str(REPLICATION)
    assert properties["min.insync.replicas"] == str(MIN_INSYNC)
    assert properties["offsets.topic.replication.factor"] == str(REPLICATION)
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    protocols = dict(p.split(":") for p in properties["listener.security.protocol.map"].split(","))
    assert protocols["EXTERNAL"] == "SASL_SSL"
    assert properties["listener.name.external.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    voters = properties["controller.quorum.voters"].split(",")
    assert voters == [f"{n}@kafka-{n}-internal:9093" for n in (1, 2, 3)]
