"""Reading deploy/ as the tools would: compose, the Dockerfile, the Kubernetes overlays as
kustomize renders them, the Kafka files of compose, Prometheus and Grafana."""

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAYS = ("dev", "production")
KAFKA_FILES = DEPLOY / "kafka"
SERVICES = ("registration", "notification", "reporting")
# The port of each service, as the settings' defaults have them.
SERVICE_PORTS = {"registration": 8001, "notification": 8002, "reporting": 8003}
# The topic prefix of every deployment (compose and Kubernetes settings say so; checked).
TOPIC_PREFIX = "dialognet."
# .ci/run sets it: there a missing kustomize fails the test instead of skipping it.
REQUIRE_KUSTOMIZE = "DIALOGNET_REQUIRE_KUSTOMIZE"
KUSTOMIZE_HINT = (
    "no kustomize: install kubectl (it has kustomize built in) or "
    "`go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1` (.ci/run does)"
)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


# --- compose ------------------------------------------------------------------------------


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


def mounted_host_path(service: str, container_path: str) -> Path:
    """Host path of `container_path` through one of the service's bind mounts."""
    for volume in compose_service(service)["volumes"]:
        source, target, *_ = str(volume).split(":")
        if source.startswith(".") and container_path == target:
            return DEPLOY / source  # a file mounted as itself
        if source.startswith(".") and container_path.startswith(target.rstrip("/") + "/"):
            return DEPLOY / source / container_path.removeprefix(target.rstrip("/") + "/")
    raise AssertionError(f"{container_path} is not bind-mounted into {service}")


def tab_separated(path: Path) -> list[list[str]]:
    """The rows of one of deploy/kafka's .tsv files, comments left out."""
    lines = path.read_text().splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def broker_properties() -> dict[str, str]:
    """deploy/kafka/server.properties, the configuration of every compose Kafka node."""
    properties = {}
    for line in (KAFKA_FILES / "server.properties").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            properties[name.strip()] = value.strip()
    return properties


# --- Kubernetes ---------------------------------------------------------------------------


def kustomize_command() -> list[str]:
    """`kustomize build`, or kubectl's built-in copy; fails (CI) or skips (elsewhere) without."""
    for candidate in (shutil.which("kustomize"), _go_installed("kustomize")):
        if candidate:
            return [candidate, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    if os.environ.get(REQUIRE_KUSTOMIZE):
        pytest.fail(KUSTOMIZE_HINT)
    pytest.skip(KUSTOMIZE_HINT)


def _go_installed(name: str) -> str | None:
    go = shutil.which("go")
    if go is None:
        return None
    gopath = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True, check=True)
    binary = Path(gopath.stdout.strip()) / "bin" / name
    return str(binary) if binary.is_file() else None


@cache
def rendered(folder: Path) -> tuple[dict[str, Any], ...]:
    """Every object `kustomize build folder` renders: what `kubectl apply -k` would send."""
    built = subprocess.run(
        [*kustomize_command(), str(folder)], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0, f"kustomize build {folder.relative_to(ROOT)}: {built.stderr}"
    return tuple(document for document in yaml.safe_load_all(built.stdout) if document)


def overlay(name: str) -> tuple[dict[str, Any], ...]:
    return rendered(K8S / "overlays" / name)


def objects(documents: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    """The objects of one kind, by name."""
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def one(documents: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = objects(documents, kind)
    assert name in found, f"no {kind} {name}"
    return found[name]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec(workload)["containers"]
    found: dict[str, Any] = only
    return found


def base_manifest_files() -> list[Path]:
    return sorted(path for path in BASE.rglob("*.yaml") if path.name != "kustomization.yaml")


def settings_named_in_k8s(documents: tuple[dict[str, Any], ...]) -> Iterator[tuple[str, str]]:
    """(where, DIALOGNET_* name) of every setting a rendered object passes to a container."""
    for document in documents:
        where = f"{document['kind']} {document['metadata']['name']}"
        if document["kind"] == "ConfigMap":
            for name in document.get("data", {}):
                yield where, name
        if document["kind"] in ("Deployment", "Job"):
            for entry in container(document).get("env", []):
                yield where, entry["name"]


# --- Dockerfile ---------------------------------------------------------------------------


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


def image_environment() -> dict[str, str]:
    """The ENV of the image's final stage (`ENV A=1 B=2` form)."""
    environment: dict[str, str] = {}
    for keyword, arguments in final_stage(dockerfile_instructions()):
        if keyword == "ENV":
            environment.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return environment


# --- Prometheus and Grafana ---------------------------------------------------------------

METRIC_NAME = re.compile(r"\bdialognet_[a-z0-9_]+")
SERIES_SUFFIXES = ("_bucket", "_sum", "_count")
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))


def alert_rules() -> list[dict[str, Any]]:
    loaded = load_yaml(DEPLOY / "prometheus" / "alerts.yml")
    return [rule for group in loaded["groups"] for rule in group["rules"]]


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


def metrics_in(expression: str) -> set[str]:
    """Metric names in a PromQL expression, histogram series reduced to their metric."""
    names: set[str] = set()
    for series in METRIC_NAME.findall(expression):
        suffix = next((s for s in SERIES_SUFFIXES if series.endswith(s)), "")
        names.add(series.removesuffix(suffix))
    return names


def deploy_metric_names() -> set[str]:
    """Every metric the alert rules and the dashboards name."""
    used = set().union(*(metrics_in(rule["expr"]) for rule in alert_rules()))
    for path in DASHBOARDS:
        for panel in dashboard_panels(path.name):
            used |= set().union(*(metrics_in(t["expr"]) for t in panel.get("targets", [])))
    return used
