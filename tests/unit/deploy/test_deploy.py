"""Offline checks of deploy/: compose, Kubernetes, Prometheus, Grafana and the Dockerfile."""

import base64
import importlib
import json
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import check_jsonschema  # type: ignore[import-untyped]
import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_SCHEMA = (
    Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
)
# The oldest Kubernetes minor release we promise to run on; the manifests must validate there.
KUBERNETES_VERSION = "1.31"
REGISTRATION_PORT = 8001
# The port of each service, as the settings' defaults and the scrape config have them.
SERVICE_PORTS = {"registration": 8001, "notification": 8002, "reporting": 8003}
# What the notification service (built beside reporting) exports, as agreed with its engineer;
# used while services/notification/metrics.py does not exist yet.
NOTIFICATION_METRICS = frozenset(
    {
        "dialognet_notification_emails_total",
        "dialognet_notification_send_duration_seconds",
        "dialognet_notification_retry_queue_depth",
        "dialognet_notification_oldest_queued_age_seconds",
        "dialognet_notification_event_to_sent_seconds",
    }
)
# Modules whose prometheus_client collectors define the metric names deploy/ may use.
RUNTIME_METRICS_MODULE = "services.runtime.metrics"
SERVICES = ("registration", "notification", "reporting")
METRIC_NAME = re.compile(r"\bdialognet_[a-z0-9_]+")
SERIES_SUFFIXES = ("_bucket", "_sum", "_count")
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|PRIVATE_KEY")
REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]+\}$")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


# --- loading -------------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(DEPLOY / "compose.yaml")
    return loaded


def compose_service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose()["services"][name]
    return service


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(entry.split("=", 1) for entry in environment)
    return {name: str(value) for name, value in environment.items()}


def k8s_manifest_files() -> list[Path]:
    return sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in k8s_manifest_files():
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path, document


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    for _, document in k8s_documents():
        if document["kind"] == kind and document["metadata"]["name"] == name:
            return document
    raise AssertionError(f"no {kind} {name} in {K8S}")


def registration_container() -> dict[str, Any]:
    deployment = k8s_object("Deployment", "registration")
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    (container,) = (c for c in containers if c["name"] == "registration")
    return container


def alert_rules() -> list[dict[str, Any]]:
    loaded = load_yaml(DEPLOY / "prometheus" / "alerts.yml")
    return [rule for group in loaded["groups"] for rule in group["rules"]]


DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))


@cache
def dashboard(name: str = "registration.json") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEPLOY / "grafana" / "dashboards" / name).read_text())
    return loaded


def dashboard_panels(name: str = "registration.json") -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in dashboard(name)["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # panels inside collapsed rows
    return panels


def deploy_metric_names() -> set[str]:
    """Every metric the alert rules and the dashboards name."""
    used = set().union(*(metrics_in(rule["expr"]) for rule in alert_rules()))
    for path in DASHBOARDS:
        for panel in dashboard_panels(path.name):
            used |= set().union(*(metrics_in(t["expr"]) for t in panel.get("targets", [])))
    return used


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def exec_form(arguments: str) -> list[str]:
    if arguments.startswith("["):
        parsed: list[str] = json.loads(arguments)
        return parsed
    return shlex.split(arguments)


# --- metric names: the code is the one source of truth ------------------------------------


def exported_names(module: ModuleType) -> set[str]:
    """The names a module's prometheus_client collectors export (counters with `_total`): its
    metrics, and the families its custom collectors describe (reporting computes its metrics
    from the read models when scraped)."""
    names: set[str] = set()
    for collector in vars(module).values():
        if isinstance(collector, MetricWrapperBase):
            names.add(_exported(str(collector._type), str(collector._name)))
        elif _is_custom_collector(collector):
            names.update(_exported(family.type, family.name) for family in collector.describe())
    return names


def _is_custom_collector(candidate: object) -> bool:
    """An instance (not a class) with collect and describe, as REGISTRY.register takes."""
    return (
        not isinstance(candidate, type)
        and callable(getattr(candidate, "collect", None))
        and callable(getattr(candidate, "describe", None))
    )


def _exported(kind: str, name: str) -> str:
    return {"counter": f"{name}_total", "info": f"{name}_info"}.get(kind, name)


def optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        # Only "this module does not exist yet" is tolerated, not a broken import inside it.
        if missing.name is not None and name.startswith(missing.name):
            return None
        raise


@cache
def defined_metrics() -> tuple[frozenset[str], frozenset[str]]:
    """(names the code defines, services whose metrics module does not exist yet). For the
    notification service, until its module exists, the names agreed with its engineer."""
    names = exported_names(importlib.import_module(RUNTIME_METRICS_MODULE))
    missing = set()
    for service in SERVICES:
        module = optional_module(f"services.{service}.metrics")
        if module is not None:
            names |= exported_names(module)
        elif service == "notification":
            names |= NOTIFICATION_METRICS
        else:
            missing.add(service)
    return frozenset(names), frozenset(missing)


def metrics_in(expression: str) -> set[str]:
    """Metric names in a PromQL expression, histogram series reduced to their metric."""
    names: set[str] = set()
    for series in METRIC_NAME.findall(expression):
        suffix = next((s for s in SERIES_SUFFIXES if series.endswith(s)), "")
        names.add(series.removesuffix(suffix))
    return names


def assert_metrics_defined(used: set[str], where: str) -> None:
    defined, services_without_module = defined_metrics()
    unknown = used - defined
    pending = {
        name
        for name in unknown
        for service in services_without_module
        if name.startswith(f"dialognet_{service}_")
    }
    assert unknown - pending == set(), f"{where} uses metrics no code defines"
    if pending:
        pytest.skip(f"{where}: metrics module not written yet for {sorted(pending)}")


def test_runtime_metrics_are_found() -> None:
    defined, _ = defined_metrics()
    assert "dialognet_outbox_published_total" in defined
    assert "dialognet_consumer_lag_messages" in defined
    assert "dialognet_http_request_duration_seconds" in defined


# --- compose ------------------------------------------------------------------------------


def test_compose_validates_against_compose_spec() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(compose()), key=lambda e: e.path
    )
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_compose_has_the_whole_stack() -> None:
    services = compose()["services"]
    assert {"kafka", "postgres", "mailpit", "prometheus", "grafana", "registration"} <= set(
        services
    )
    assert services["postgres"]["image"].startswith("postgres:18")
    assert services["kafka"]["image"].startswith("apache/kafka:")


def test_compose_depends_on_names_exist() -> None:
    services = compose()["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert set(depends_on) <= set(services), f"{name} depends on an undefined service"


def test_registration_waits_for_healthy_infrastructure() -> None:
    services = compose()["services"]
    depends_on = compose_service("registration")["depends_on"]
    for dependency in ("kafka", "postgres"):
        assert depends_on[dependency]["condition"] == "service_healthy"
        assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_registration_build_and_settings() -> None:
    registration = compose_service("registration")
    assert registration["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (
        DEPLOY / registration["build"]["context"] / registration["build"]["dockerfile"]
    ).is_file()
    environment = environment_of(registration)
    assert environment["DIALOGNET_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert "@postgres:5432/" in environment["DIALOGNET_DATABASE_URL"]
    assert "DIALOGNET_ADMIN_TOKEN" in environment
    assert environment["DIALOGNET_REGISTRATION_HOST"] == "0.0.0.0"
    assert environment["DIALOGNET_REGISTRATION_PORT"] == str(REGISTRATION_PORT)


def test_compose_commits_no_literal_secret() -> None:
    for name, service in compose()["services"].items():
        for variable, value in environment_of(service).items():
            if SECRET_NAME.search(variable):
                assert REQUIRED_VARIABLE.match(value), f"{name}.{variable} is not ${{VAR:?…}}"
            for password in URL_PASSWORD.findall(value):
                assert REQUIRED_VARIABLE.match(password), f"{name}.{variable} embeds a password"


def test_env_example_holds_no_values() -> None:
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    assignments = [line for line in lines if line.strip() and not line.startswith("#")]
    assert assignments
    assert all(line.endswith("=") for line in assignments)


def test_kafka_runs_single_node_kraft() -> None:
    environment = environment_of(compose_service("kafka"))
    node_id = environment["KAFKA_NODE_ID"]
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node_id}@kafka:9093"
    controller = environment["KAFKA_CONTROLLER_LISTENER_NAMES"]
    listeners = dict(entry.split("://") for entry in environment["KAFKA_LISTENERS"].split(","))
    advertised = dict(
        entry.split("://") for entry in environment["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    protocols = dict(
        entry.split(":") for entry in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert controller in listeners
    assert controller not in advertised
    assert set(listeners) <= set(protocols)
    assert advertised[environment["KAFKA_INTER_BROKER_LISTENER_NAME"]] == "kafka:9092"
    # A cluster id is a UUID in URL-safe base64 without padding.
    assert len(base64.urlsafe_b64decode(environment["CLUSTER_ID"] + "==")) == 16


def test_postgres_18_volume_is_mounted_at_its_parent_directory() -> None:
    # PostgreSQL 18 images refuse a mount at /var/lib/postgresql/data.
    volumes = compose_service("postgres")["volumes"]
    assert any(str(volume).endswith(":/var/lib/postgresql") for volume in volumes)


def mounted_host_path(service: str, container_path: str) -> Path:
    """Host path of `container_path` through one of the service's bind mounts."""
    for volume in compose_service(service)["volumes"]:
        source, target, *_ = str(volume).split(":")
        if source.startswith(".") and container_path.startswith(target.rstrip("/") + "/"):
            return DEPLOY / source / container_path.removeprefix(target.rstrip("/") + "/")
    raise AssertionError(f"{container_path} is not bind-mounted into {service}")


# --- Prometheus ---------------------------------------------------------------------------


def test_prometheus_scrapes_the_three_services() -> None:
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service, port in SERVICE_PORTS.items():
        job = jobs[f"dialognet-{service}"]
        targets = [target for group in job["static_configs"] for target in group["targets"]]
        assert targets == [f"{service}:{port}"]


def test_alerts_cover_what_reporting_adds() -> None:
    expressions = "\n".join(rule["expr"] for rule in alert_rules())
    for needed in (
        "deriv(sum by (topic) (max by (topic, partition) (dialognet_reporting_consumer_lag",
        "dialognet_reporting_dead_letters_total",
        'dialognet_notification_emails_total{result="failed"}',
        "> max by (forum_id, title) (dialognet_reporting_forum_capacity_seats)",
    ):
        assert needed in expressions


def test_prometheus_scrapes_registration_and_loads_the_rules() -> None:
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    for rule_file in config["rule_files"]:
        assert mounted_host_path("prometheus", rule_file).is_file()
    (job,) = (j for j in config["scrape_configs"] if j["job_name"] == "dialognet-registration")
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [target for group in job["static_configs"] for target in group["targets"]]
    assert targets == [f"registration:{REGISTRATION_PORT}"]
    assert "registration" in compose()["services"]


def test_alert_rules_have_the_expected_structure() -> None:
    rules = alert_rules()
    assert len(rules) >= 7
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["expr"].strip(), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]
        assert balanced(rule["expr"]), rule["alert"]


def test_alerts_cover_the_failure_modes() -> None:
    expressions = "\n".join(rule["expr"] for rule in alert_rules())
    assert "up{" in expressions
    assert "== 0" in expressions
    for metric in (
        "dialognet_outbox_pending_events",
        "dialognet_outbox_publish_failures_total",
        "dialognet_consumer_lag_messages",
        'outcome="dead_lettered"',
        'status=~"5.."',
        "histogram_quantile(0.99",
    ):
        assert metric in expressions


def test_alerts_use_only_metrics_the_code_defines() -> None:
    used = set().union(*(metrics_in(rule["expr"]) for rule in alert_rules()))
    assert used
    assert_metrics_defined(used, "alerts.yml")


def balanced(expression: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in re.sub(r'"[^"]*"', '""', expression):
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


# --- Grafana ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [path.name for path in DASHBOARDS])
def test_dashboard_has_panels_with_targets_and_unique_ids(name: str) -> None:
    panels = dashboard_panels(name)
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    graphs = [panel for panel in panels if panel["type"] != "row"]
    assert len(graphs) >= 10
    for panel in graphs:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert balanced(target["expr"]), panel["title"]


@pytest.mark.parametrize("name", [path.name for path in DASHBOARDS])
def test_dashboard_uses_the_datasource_variable(name: str) -> None:
    variables = {v["name"]: v for v in dashboard(name)["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard_panels(name):
        if panel["type"] == "row":
            continue
        for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert source == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def test_dashboard_shows_what_operators_need() -> None:
    expressions = "\n".join(
        target["expr"] for panel in dashboard_panels() for target in panel.get("targets", [])
    )
    for needed in (
        "dialognet_registration_registrations_total",
        "dialognet_registration_rejections_total",
        "dialognet_http_request_duration_seconds_bucket",
        "histogram_quantile(0.5",
        "histogram_quantile(0.99",
        'status=~"5.."',
        "dialognet_outbox_published_total",
        "dialognet_outbox_pending_events",
        "dialognet_consumer_lag_messages",
        "dialognet_consumer_event_latency_seconds_bucket",
        'outcome="dead_lettered"',
    ):
        assert needed in expressions


@pytest.mark.parametrize("name", [path.name for path in DASHBOARDS])
def test_dashboard_uses_only_metrics_the_code_defines(name: str) -> None:
    used = set().union(
        *(
            metrics_in(t["expr"])
            for panel in dashboard_panels(name)
            for t in panel.get("targets", [])
        )
    )
    assert_metrics_defined(used, name)


def test_reporting_dashboard_covers_the_page_and_every_pipeline() -> None:
    expressions = "\n".join(
        target["expr"]
        for panel in dashboard_panels("reporting.json")
        for target in panel.get("targets", [])
    )
    for needed in (
        "dialognet_reporting_organizations",
        "dialognet_reporting_forum_seats_confirmed",
        "dialognet_reporting_forum_waitlist_length",
        "dialognet_reporting_registrations_total",
        "dialognet_reporting_emails_total",
        "dialognet_notification_emails_total",
        "dialognet_reporting_consumer_lag_messages",
        "dialognet_reporting_event_latency_seconds_bucket",
        "dialognet_reporting_dead_letters_total",
        "dialognet_reporting_last_event_timestamp_seconds",
        "dialognet_consumer_lag_messages",
        "dialognet_outbox_pending_events",
    ):
        assert needed in expressions


def test_grafana_provisioning_points_at_the_mounted_files() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    (datasource,) = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    (provider,) = load_yaml(provisioning / "dashboards" / "dialognet.yml")["providers"]
    dashboards = mounted_host_path("grafana", provider["options"]["path"] + "/registration.json")
    assert dashboards.is_file()
    assert mounted_host_path(
        "grafana", "/etc/grafana/provisioning/dashboards/dialognet.yml"
    ).is_file()


# --- Kubernetes ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", k8s_manifest_files(), ids=lambda path: path.name)
def test_k8s_manifest_validates_offline(path: Path) -> None:
    documents = [document for document in yaml.safe_load_all(path.read_text()) if document]
    assert documents
    for document in documents:
        validated = kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        assert validated == KUBERNETES_VERSION


def test_kustomization_lists_every_manifest() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    listed = set(kustomization["resources"])
    present = {path.name for path in k8s_manifest_files()}
    # Templates document what to create by hand; applying them would create empty secrets.
    templates = {name for name in present if name.endswith(".example.yaml")}
    assert templates == {"secret.example.yaml"}
    assert listed == present - templates


def test_k8s_objects_live_in_the_namespace() -> None:
    namespace = k8s_object("Namespace", "dialognet")["metadata"]["name"]
    for path, document in k8s_documents():
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == namespace, path.name


def test_probes_point_at_the_health_endpoints() -> None:
    container = registration_container()
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        port = container[probe]["httpGet"]["port"]
        assert ports.get(port, port) == REGISTRATION_PORT


def test_service_targets_the_container_port() -> None:
    container = registration_container()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert REGISTRATION_PORT in ports.values()
    service = k8s_object("Service", "registration")
    (port,) = service["spec"]["ports"]
    assert port["port"] == REGISTRATION_PORT
    assert ports.get(port["targetPort"], port["targetPort"]) == REGISTRATION_PORT


def test_selectors_match_the_pods() -> None:
    deployment = k8s_object("Deployment", "registration")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selectors = [
        deployment["spec"]["selector"]["matchLabels"],
        k8s_object("Service", "registration")["spec"]["selector"],
        k8s_object("PodDisruptionBudget", "registration")["spec"]["selector"]["matchLabels"],
    ]
    for selector in selectors:
        assert selector.items() <= pod_labels.items()


def test_deployment_runs_several_hardened_replicas() -> None:
    deployment = k8s_object("Deployment", "registration")
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["replicas"] >= 2
    assert k8s_object("PodDisruptionBudget", "registration")["spec"]["minAvailable"] == 1
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    container = registration_container()
    assert container["command"] == ["dialognet", "run", "registration"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(REGISTRATION_PORT)
    assert annotations["prometheus.io/path"] == "/metrics"


def test_deployment_takes_settings_from_configmap_and_secret() -> None:
    container = registration_container()
    (config_source,) = container["envFrom"]
    settings = k8s_object("ConfigMap", "dialognet-settings")["data"]
    assert config_source["configMapRef"]["name"] == "dialognet-settings"
    assert "DIALOGNET_KAFKA_BOOTSTRAP" in settings
    assert not any(SECRET_NAME.search(key) or "DATABASE_URL" in key for key in settings)
    from_secret = {
        entry["name"]: entry["valueFrom"]["secretKeyRef"]
        for entry in container["env"]
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    assert {"DIALOGNET_DATABASE_URL", "DIALOGNET_ADMIN_TOKEN"} <= set(from_secret)
    template = load_yaml(K8S / "secret.example.yaml")
    for variable, reference in from_secret.items():
        assert reference["name"] == template["metadata"]["name"]
        if not reference.get("optional", False):
            assert reference["key"] in template["stringData"], variable
    assert all(value == "" for value in template["stringData"].values())


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_builds_a_non_root_registration_image() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0][0] == "FROM"
    assert "python:3.11-slim" in instructions[0][1]
    runtime = final_stage(instructions)
    assert "python:3.11-slim" in runtime[0][1]
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user.isdigit(), "runAsNonRoot needs a numeric USER"
    assert int(user) != 0, "the image runs as root"
    (command,) = (arguments for keyword, arguments in runtime if keyword == "CMD")
    assert exec_form(command) == ["dialognet", "run", "registration"]
    exposed = {arguments for keyword, arguments in runtime if keyword == "EXPOSE"}
    assert str(REGISTRATION_PORT) in exposed
    assert any(
        keyword == "RUN" and "pip install ." in arguments for keyword, arguments in instructions
    )


def test_dockerfile_healthcheck_asks_the_liveness_endpoint() -> None:
    runtime = final_stage(dockerfile_instructions())
    (healthcheck,) = (arguments for keyword, arguments in runtime if keyword == "HEALTHCHECK")
    assert "CMD" in healthcheck
    assert "/health/live" in healthcheck
    assert "urllib" in healthcheck


def test_compose_runs_the_image_user_of_the_k8s_pods() -> None:
    runtime = final_stage(dockerfile_instructions())
    user = [arguments for keyword, arguments in runtime if keyword == "USER"][-1]
    pod_security = k8s_object("Deployment", "registration")["spec"]["template"]["spec"][
        "securityContext"
    ]
    assert user == f"{pod_security['runAsUser']}:{pod_security['runAsGroup']}"
