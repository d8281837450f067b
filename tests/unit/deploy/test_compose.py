"""deploy/compose.yaml: valid against the compose specification, the whole stack, a three-node
KRaft cluster with SASL_SSL and a SCRAM user per service, the migration step before the
services, two replicas of each, and no secret written down."""

import json
import re
from pathlib import Path

import check_jsonschema  # type: ignore[import-untyped]
import jsonschema  # type: ignore[import-untyped]

from tests.kafka.acls import SERVICES
from tests.unit.deploy.deploy_files import (
    DEPLOY,
    SERVICE_PORTS,
    broker_properties,
    compose,
    compose_service,
    environment_of,
    load_yaml,
    mounted_host_path,
)

COMPOSE_SCHEMA = (
    Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
)
BROKERS = ("kafka-1", "kafka-2", "kafka-3")
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|PRIVATE_KEY")
REQUIRED_VARIABLE = re.compile(r"^\$\{([A-Z0-9_]+):\?[^}]+\}$")
ANY_REQUIRED_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+):\?[^}]+\}")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


def test_compose_validates_against_compose_spec() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(compose()), key=lambda e: e.path
    )
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_compose_has_the_whole_stack() -> None:
    services = compose()["services"]
    assert {"postgres", "mailpit", "prometheus", "grafana", "migrate", *BROKERS} <= set(services)
    assert set(SERVICES) <= set(services)
    assert services["postgres"]["image"].startswith("postgres:18")
    for broker in BROKERS:
        assert services[broker]["image"].startswith("apache/kafka:4.")


def test_dependencies_exist_and_wait_for_what_they_need() -> None:
    services = compose()["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, list):  # the short form: started is enough
            depends_on = {name: {"condition": "service_started"} for name in depends_on}
        for dependency, condition in depends_on.items():
            assert dependency in services, f"{name} depends on an undefined service"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], dependency
    for service in SERVICES:
        depends_on = compose_service(service)["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["kafka-setup"]["condition"] == "service_completed_successfully"
    for broker in BROKERS:
        assert compose_service("kafka-setup")["depends_on"][broker]["condition"] == (
            "service_healthy"
        )
    assert compose_service("migrate")["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_migration_step_runs_migrate_on_the_database_alone() -> None:
    migrate = compose_service("migrate")
    assert migrate["command"] == ["migrate"]
    assert set(environment_of(migrate)) == {"DIALOGNET_DATABASE_URL"}


def test_each_service_runs_two_read_only_replicas_as_its_own_kafka_user() -> None:
    passwords = set()
    for service in SERVICES:
        definition = compose_service(service)
        assert definition["command"] == ["run", service]
        assert definition["deploy"]["replicas"] == 2
        assert definition["read_only"] is True
        assert "/tmp" in definition["tmpfs"]
        assert definition["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        environment = environment_of(definition)
        assert environment["DIALOGNET_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert environment["DIALOGNET_KAFKA_SASL_USERNAME"] == service
        passwords.add(environment["DIALOGNET_KAFKA_SASL_PASSWORD"])
        cafile = environment["DIALOGNET_KAFKA_SSL_CAFILE"]
        assert any(cafile.startswith(str(v).split(":")[1]) for v in definition["volumes"])
        assert "ports" not in definition, "replicas share no host port: the edge proxy has them"
    assert len(passwords) == len(SERVICES)


def test_the_three_brokers_form_one_kraft_cluster() -> None:
    properties = broker_properties()
    cluster_ids, node_ids = set(), set()
    for broker in BROKERS:
        definition = compose_service(broker)
        environment = environment_of(definition)
        cluster_ids.add(environment["CLUSTER_ID"])
        node_ids.add(environment["NODE_ID"])
        assert definition["hostname"] == broker
        internal = definition["networks"]["kafka-internal"]["aliases"]
        assert internal == [f"{broker}-internal"]
        assert mounted_host_path(broker, "/etc/dialognet/kafka/start-broker.sh").is_file()
    assert node_ids == {"1", "2", "3"}
    assert len(cluster_ids) == 1
    advertised = properties["advertised.listeners"]
    assert "EXTERNAL://kafka-@NODE_ID@:9094" in advertised.split(",")
    for service in SERVICES:
        bootstrap = environment_of(compose_service(service))["DIALOGNET_KAFKA_BOOTSTRAP"]
        assert bootstrap.split(",") == [f"{broker}:9094" for broker in BROKERS]


def test_only_the_brokers_and_kafka_setup_reach_the_plaintext_listeners() -> None:
    assert compose()["networks"]["kafka-internal"]["internal"] is True
    on_internal = {
        name
        for name, service in compose()["services"].items()
        if "kafka-internal" in (service.get("networks") or {})
    }
    assert on_internal == {*BROKERS, "kafka-setup"}
    properties = broker_properties()
    for listener in properties["listeners"].split(","):
        name, _, address = listener.partition("://")
        if name != "EXTERNAL":
            assert address.startswith("kafka-@NODE_ID@-internal:"), listener


def test_compose_commits_no_literal_secret() -> None:
    for name, service in compose()["services"].items():
        for variable, value in environment_of(service).items():
            if SECRET_NAME.search(variable):
                assert REQUIRED_VARIABLE.match(value), f"{name}.{variable} is not ${{VAR:?…}}"
            for password in URL_PASSWORD.findall(value):
                assert REQUIRED_VARIABLE.match(password), f"{name}.{variable} embeds a password"


def test_env_example_lists_every_required_variable_without_values() -> None:
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    assignments = [line for line in lines if line.strip() and not line.startswith("#")]
    assert all(line.endswith("=") for line in assignments)
    listed = {line.removesuffix("=") for line in assignments}
    # From the loaded file, so a `${VAR:?…}` in a comment does not count.
    required = set(ANY_REQUIRED_VARIABLE.findall(json.dumps(compose())))
    assert listed == required


def test_postgres_18_volume_is_mounted_at_its_parent_directory() -> None:
    # PostgreSQL 18 images refuse a mount at /var/lib/postgresql/data.
    volumes = compose_service("postgres")["volumes"]
    assert any(str(volume).endswith(":/var/lib/postgresql") for volume in volumes)


def test_the_edge_proxies_each_service_port_and_keeps_metrics_inside() -> None:
    published = {str(port).rsplit(":", 2)[-1] for port in compose_service("edge")["ports"]}
    assert published == {str(port) for port in SERVICE_PORTS.values()}
    config = (DEPLOY / "edge.conf").read_text()
    for service, port in SERVICE_PORTS.items():
        assert f"{port} {service}:{port};" in config
    assert "location = /metrics" in config
    assert mounted_host_path("edge", "/etc/nginx/conf.d/default.conf").is_file()


def test_kafka_scripts_are_mounted_where_the_commands_run_them() -> None:
    for name in ("kafka-tls", "kafka-setup", *BROKERS):
        command = compose_service(name)["command"]
        assert mounted_host_path(name, command[-1]).is_file(), name
    env = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    assert env["rule_files"]
