"""deploy/k8s as `kubectl apply -k` would send it: each overlay rendered by kustomize, every
object validated offline (kubernetes-validate for the core kinds, the vendored Strimzi and
Prometheus Operator CRDs for theirs), and what the services need of it."""

from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from services.cli.service_catalog import SERVE
from tests.security.test_walk import routes_of
from tests.unit.deploy.crd_schemas import custom_resource_errors, is_custom
from tests.unit.deploy.deploy_files import (
    BASE,
    K8S,
    OVERLAYS,
    SERVICE_PORTS,
    SERVICES,
    base_manifest_files,
    container,
    load_yaml,
    objects,
    one,
    overlay,
    pod_spec,
    rendered,
)

# The oldest Kubernetes minor release we promise to run on; the manifests must validate there.
KUBERNETES_VERSION = "1.31"
NAMESPACE = "dialognet"
OPS_CLIENT = K8S / "ops" / "kafka-client.yaml"
RENDERED = {
    "base": lambda: rendered(BASE),
    **{name: (lambda n=name: overlay(n)) for name in OVERLAYS},
}
# What the namespace may send to the services (the ingress controller, Prometheus) and what the
# services may reach: ports by peer, as the issue says — Kafka, PostgreSQL, SMTP, and DNS.
DNS, KAFKA_TLS, POSTGRESQL = 53, 9093, 5432
SMTP = {25, 465, 587}
EXPECTED_EGRESS_PORTS = {
    "registration": {DNS, KAFKA_TLS, POSTGRESQL},
    "notification": {DNS, KAFKA_TLS, POSTGRESQL},
    "reporting": {DNS, KAFKA_TLS, POSTGRESQL},
    "migrate": {DNS, POSTGRESQL},
}
SENDS_MAIL = {"notification"}
ALLOWED_CALLERS = {"ingress-nginx", "monitoring"}


def rendered_as(name: str) -> tuple[dict[str, Any], ...]:
    return RENDERED[name]()


def deployments(name: str) -> dict[str, dict[str, Any]]:
    return objects(rendered_as(name), "Deployment")


# --- rendering and validation -------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERED)
def test_kustomize_renders_every_kind_the_issue_names(name: str) -> None:
    kinds = {document["kind"] for document in rendered_as(name)}
    assert kinds >= {
        "Namespace",
        "ConfigMap",
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Job",
        "PodMonitor",
        "Ingress",
    }
    assert "Secret" not in kinds, "Secrets are referenced, never committed"


@pytest.mark.parametrize("name", RENDERED)
def test_every_rendered_object_validates_offline(name: str) -> None:
    problems = {}
    for document in rendered_as(name):
        where = f"{document['kind']} {document['metadata']['name']}"
        if is_custom(document):
            errors = custom_resource_errors(document)
            if errors:
                problems[where] = errors
        else:
            validated = kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            assert validated == KUBERNETES_VERSION, where
    assert problems == {}


def test_custom_resources_are_checked_strictly() -> None:
    """A misspelt field or a wrong value in a Strimzi resource is an error, as in the API."""
    topic = next(iter(objects(rendered(BASE), "KafkaTopic").values()))
    misspelt = {**topic, "spec": {**topic["spec"], "partitons": 3}}
    assert any("partitons" in error for error in custom_resource_errors(misspelt))
    user = next(iter(objects(rendered(BASE), "KafkaUser").values()))
    wrong = {**user, "spec": {**user["spec"], "authentication": {"type": "scram-sha-256"}}}
    assert custom_resource_errors(wrong)
    assert custom_resource_errors(topic) == []


def test_the_base_lists_every_manifest() -> None:
    kustomization = load_yaml(BASE / "kustomization.yaml")
    listed = set(kustomization["resources"])
    patches = {patch["path"] for patch in kustomization["patches"] if "path" in patch}
    present = {str(path.relative_to(BASE)) for path in base_manifest_files()}
    # Templates document what to create by hand; applying them would create empty secrets.
    templates = {name for name in present if name.endswith(".example.yaml")}
    assert templates == {"secret.example.yaml"}
    assert listed == present - templates - patches


@pytest.mark.parametrize("name", RENDERED)
def test_every_namespaced_object_lives_in_the_namespace(name: str) -> None:
    for document in rendered_as(name):
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == NAMESPACE, document["metadata"]["name"]
    namespace = one(rendered_as(name), "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


# --- the services' workloads --------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERED)
def test_each_service_runs_hardened_with_probes_and_resources(name: str) -> None:
    found = deployments(name)
    assert set(found) == set(SERVICES)
    for service, deployment in found.items():
        main = container(deployment)
        assert main["args"] == ["run", service]
        ports = {port["name"]: port["containerPort"] for port in main["ports"]}
        assert ports == {"http": SERVICE_PORTS[service]}
        assert main["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert main["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert main["startupProbe"]["httpGet"]["path"] == "/health/live"
        assert {"cpu", "memory"} <= set(main["resources"]["requests"])
        assert "memory" in main["resources"]["limits"]
        assert_hardened(deployment)
        spread = pod_spec(deployment)["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} >= {"kubernetes.io/hostname"}
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def assert_hardened(workload: dict[str, Any]) -> None:
    """Non-root, read-only root filesystem with /tmp writable, no privilege escalation, seccomp."""
    pod = pod_spec(workload)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = container(workload)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    mounts = {mount["mountPath"]: mount["name"] for mount in container(workload)["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize("name", RENDERED)
def test_services_pdbs_and_podmonitors_select_the_pods(name: str) -> None:
    documents = rendered_as(name)
    for service, deployment in deployments(name).items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        kubernetes_service = one(documents, "Service", service)
        assert kubernetes_service["spec"]["selector"].items() <= pod_labels.items()
        (port,) = kubernetes_service["spec"]["ports"]
        assert (port["port"], port["targetPort"]) == (SERVICE_PORTS[service], "http")
        budget = one(documents, "PodDisruptionBudget", service)["spec"]
        assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
        monitor = one(documents, "PodMonitor", service)["spec"]
        assert monitor["selector"]["matchLabels"].items() <= pod_labels.items()
        (endpoint,) = monitor["podMetricsEndpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
        # The alert rules and dashboards name the jobs dialognet-<service>.
        jobs = [r["replacement"] for r in endpoint["relabelings"] if r["targetLabel"] == "job"]
        assert jobs == [f"dialognet-{service}"]


def test_overlays_size_the_services_for_their_place() -> None:
    for deployment in deployments("dev").values():
        assert deployment["spec"]["replicas"] == 1
    for budget in objects(overlay("dev"), "PodDisruptionBudget").values():
        assert budget["spec"] == {**budget["spec"], "maxUnavailable": 1}
    for deployment in deployments("production").values():
        assert deployment["spec"]["replicas"] >= 2
        spread = pod_spec(deployment)["topologySpreadConstraints"]
        by_key = {c["topologyKey"]: c["whenUnsatisfiable"] for c in spread}
        assert by_key["kubernetes.io/hostname"] == "DoNotSchedule"
    for budget in objects(overlay("production"), "PodDisruptionBudget").values():
        assert budget["spec"]["minAvailable"] == 1


@pytest.mark.parametrize("name", OVERLAYS)
def test_one_image_for_every_workload(name: str) -> None:
    documents = overlay(name)
    images = {container(w)["image"] for w in [*objects(documents, "Deployment").values()]}
    images |= {container(job)["image"] for job in objects(documents, "Job").values()}
    assert len(images) == 1
    if name == "production":
        (image,) = images
        assert "/" in image.split(":")[0], "production pulls from a registry"


@pytest.mark.parametrize("name", RENDERED)
def test_the_migration_job_runs_migrate_with_the_database_only(name: str) -> None:
    job = one(rendered_as(name), "Job", "dialognet-migrate")
    assert container(job)["args"] == ["migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert_hardened(job)
    settings = {entry["name"] for entry in container(job)["env"]}
    assert "DIALOGNET_DATABASE_URL" in settings
    assert not any("KAFKA" in setting for setting in settings)
    assert "envFrom" not in container(job)


# --- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERED)
def test_secrets_are_referenced_from_the_template_or_made_by_strimzi(name: str) -> None:
    documents = rendered_as(name)
    template = load_yaml(BASE / "secret.example.yaml")
    documented = set(template["stringData"])
    optional_documented = (BASE / "secret.example.yaml").read_text()
    users = set(objects(documents, "KafkaUser"))
    (cluster,) = objects(documents, "Kafka")
    for workload in [
        *objects(documents, "Deployment").values(),
        *objects(documents, "Job").values(),
    ]:
        for entry in container(workload).get("env", []):
            reference = entry.get("valueFrom", {}).get("secretKeyRef")
            if reference is None:
                continue
            if reference["name"] in users:
                assert reference["key"] == "password"
            else:
                assert reference["name"] == template["metadata"]["name"]
                assert reference["key"] in documented or (
                    reference.get("optional") and f"# {reference['key']}:" in optional_documented
                ), reference["key"]
        for volume in pod_spec(workload).get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] == f"{cluster}-cluster-ca-cert"
    assert all(value == "" for value in template["stringData"].values())


# --- network policies ---------------------------------------------------------------------


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector (matchLabels, matchExpressions with In) against a pod's labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", "extend selects() for other operators"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def policies_of(documents: tuple[dict[str, Any], ...], labels: dict[str, str]) -> list[Any]:
    return [
        policy["spec"]
        for policy in objects(documents, "NetworkPolicy").values()
        if selects(policy["spec"]["podSelector"], labels)
    ]


def workloads(documents: tuple[dict[str, Any], ...]) -> dict[str, dict[str, Any]]:
    found = dict(objects(documents, "Deployment"))
    found["migrate"] = one(documents, "Job", "dialognet-migrate")
    return found


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("name", RENDERED)
def test_each_pod_reaches_only_kafka_postgresql_smtp_and_dns(name: str) -> None:
    documents = rendered_as(name)
    for workload_name, workload in workloads(documents).items():
        policies = policies_of(documents, pod_labels(workload))
        # Isolated both ways: one selecting policy with no rules is the default deny.
        assert any(set(p["policyTypes"]) == {"Ingress", "Egress"} for p in policies)
        egress_ports = {
            port["port"] for p in policies for rule in p.get("egress", []) for port in rule["ports"]
        }
        assert egress_ports - SMTP == EXPECTED_EGRESS_PORTS[workload_name], workload_name
        # The relay's port (25, 465 or 587; production allows only the one it uses).
        assert bool(egress_ports & SMTP) == (workload_name in SENDS_MAIL), workload_name
        for policy in policies:
            for rule in policy.get("egress", []):
                assert rule.get("ports"), "every egress rule names its ports"


@pytest.mark.parametrize("name", RENDERED)
def test_only_the_ingress_controller_and_prometheus_reach_a_service(name: str) -> None:
    documents = rendered_as(name)
    for workload_name, workload in workloads(documents).items():
        rules = [
            r for p in policies_of(documents, pod_labels(workload)) for r in p.get("ingress", [])
        ]
        callers = {
            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for rule in rules
            for peer in rule["from"]
        }
        expected = set() if workload_name == "migrate" else ALLOWED_CALLERS
        assert callers == expected, workload_name
        for rule in rules:
            assert [port["port"] for port in rule["ports"]] == ["http"]


# --- ingress ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERED)
def test_ingress_hosts_are_the_services_public_base_urls(name: str) -> None:
    documents = rendered_as(name)
    settings = one(documents, "ConfigMap", "dialognet-settings")["data"]
    public_urls = {
        "registration": settings["DIALOGNET_PUBLIC_BASE_URL"],
        "notification": settings["DIALOGNET_NOTIFICATION_PUBLIC_BASE_URL"],
        "reporting": settings["DIALOGNET_REPORTING_PUBLIC_BASE_URL"],
    }
    ingress = one(documents, "Ingress", "dialognet")["spec"]
    for rule in ingress["rules"]:
        (service,) = {path["backend"]["service"]["name"] for path in rule["http"]["paths"]}
        assert urlsplit(public_urls[service]).hostname == rule["host"]
        https = urlsplit(public_urls[service]).scheme == "https"
        tls_hosts = {host for entry in ingress.get("tls", []) for host in entry["hosts"]}
        assert (rule["host"] in tls_hosts) == https, rule["host"]


def served_prefixes(service: str) -> set[str]:
    """The first path segment of every route and static mount the service's app serves."""
    from importlib import import_module

    from services.runtime.settings import Settings

    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1/none",
        kafka_bootstrap="127.0.0.1:9",
        smtp_url="smtp://127.0.0.1:25",
    )
    served, mounts = routes_of(import_module(SERVE[service]).create_app(settings))
    return {"/" + path.strip("/").split("/")[0] for _, path in served} | {
        "/" + mount.strip("/").split("/")[0] for mount in mounts
    }


def test_ingress_routes_only_pages_and_apis_people_use() -> None:
    ingress = one(rendered(BASE), "Ingress", "dialognet")["spec"]
    for rule in ingress["rules"]:
        for path in rule["http"]["paths"]:
            service = path["backend"]["service"]
            assert service["port"] == {"name": "http"}
            assert path["path"] in served_prefixes(service["name"]), (rule["host"], path["path"])
            assert path["path"] not in {"/metrics", "/health", "/docs", "/openapi.json"}
            if path["path"] == "/":
                assert path["pathType"] == "Exact", "a / prefix would route /metrics too"


def test_overlays_exist_with_their_names() -> None:
    assert {path.name for path in (K8S / "overlays").iterdir()} == set(OVERLAYS)
    assert {path.name for path in K8S.iterdir()} == {"base", "overlays", "ops"}


# --- the operators' Kafka client ----------------------------------------------------------


def test_the_operators_kafka_client_validates_and_is_let_in_by_the_listener() -> None:
    documents = tuple(d for d in yaml.safe_load_all(OPS_CLIENT.read_text()) if d)
    for document in documents:
        if is_custom(document):
            assert custom_resource_errors(document) == []
        else:
            assert kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    pod = one(documents, "Pod", "kafka-client")
    labels = pod["metadata"]["labels"]
    (cluster,) = objects(rendered(BASE), "Kafka").values()
    (listener,) = cluster["spec"]["kafka"]["listeners"]
    peers = [peer["podSelector"] for peer in listener["networkPolicyPeers"]]
    assert any(selects(peer, labels) for peer in peers)
    # Not one of the services' pods: their NetworkPolicies do not apply, nor their ACLs.
    assert not policies_of(rendered(BASE), labels)
    assert "ops" not in objects(rendered(BASE), "KafkaUser")
