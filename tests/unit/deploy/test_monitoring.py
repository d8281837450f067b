"""Prometheus and Grafana in deploy/: scrape config, alert rules and dashboards; every metric
they name is defined by a prometheus_client collector of the services (the integration test
tests/integration/test_deploy_metrics.py checks the running services export them)."""

import importlib
import re
from types import ModuleType
from typing import Any

import pytest
from prometheus_client.metrics import MetricWrapperBase

from tests.unit.deploy.deploy_files import (
    DASHBOARDS,
    DEPLOY,
    SERVICE_PORTS,
    SERVICES,
    alert_rules,
    compose,
    dashboard,
    dashboard_panels,
    deploy_metric_names,
    load_yaml,
    metrics_in,
    mounted_host_path,
)

# Modules whose collectors define the metric names deploy/ may use.
METRIC_MODULES = ("services.runtime.metrics", *(f"services.{s}.metrics" for s in SERVICES))


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


def defined_metrics() -> set[str]:
    return set().union(*(exported_names(importlib.import_module(m)) for m in METRIC_MODULES))


def test_every_service_metric_module_is_read() -> None:
    defined = defined_metrics()
    assert "dialognet_outbox_published_total" in defined
    assert "dialognet_notification_emails_total" in defined
    assert "dialognet_reporting_consumer_lag_messages" in defined


def test_deploy_names_only_metrics_the_code_defines() -> None:
    used = deploy_metric_names()
    assert len(used) > 20
    assert used - defined_metrics() == set()


# --- Prometheus ---------------------------------------------------------------------------


def test_prometheus_scrapes_every_replica_of_the_three_services() -> None:
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service, port in SERVICE_PORTS.items():
        job = jobs[f"dialognet-{service}"]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        (discovery,) = job["dns_sd_configs"]
        assert (discovery["names"], discovery["type"], discovery["port"]) == ([service], "A", port)
        assert service in compose()["services"]
    for rule_file in config["rule_files"]:
        assert mounted_host_path("prometheus", rule_file).is_file()


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
    assert 'up{job=~"dialognet-.*"} == 0' in expressions
    for needed in (
        "dialognet_outbox_pending_events",
        "dialognet_outbox_publish_failures_total",
        "dialognet_consumer_lag_messages",
        'outcome="dead_lettered"',
        'status=~"5.."',
        "histogram_quantile(0.99",
        "deriv(sum by (topic) (max by (topic, partition) (dialognet_reporting_consumer_lag",
        "dialognet_reporting_dead_letters_total",
        'dialognet_notification_emails_total{result="failed"}',
        "> max by (forum_id, title) (dialognet_reporting_forum_capacity_seats)",
    ):
        assert needed in expressions


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


def targets_of(name: str) -> list[dict[str, Any]]:
    return [target for panel in dashboard_panels(name) for target in panel.get("targets", [])]


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


@pytest.mark.parametrize(
    ("name", "needed"),
    [
        (
            "registration.json",
            (
                "dialognet_registration_registrations_total",
                "dialognet_registration_rejections_total",
                "dialognet_http_request_duration_seconds_bucket",
                'status=~"5.."',
                "dialognet_outbox_pending_events",
                "dialognet_consumer_lag_messages",
                'outcome="dead_lettered"',
            ),
        ),
        (
            "reporting.json",
            (
                "dialognet_reporting_organizations",
                "dialognet_reporting_forum_seats_confirmed",
                "dialognet_reporting_emails_total",
                "dialognet_notification_emails_total",
                "dialognet_reporting_consumer_lag_messages",
                "dialognet_reporting_dead_letters_total",
                "dialognet_outbox_pending_events",
            ),
        ),
    ],
)
def test_dashboards_show_what_operators_need(name: str, needed: tuple[str, ...]) -> None:
    expressions = "\n".join(target["expr"] for target in targets_of(name))
    for expression in needed:
        assert expression in expressions
    assert metrics_in(expressions)


def test_grafana_is_provisioned_with_the_dashboards_and_the_alert_rules() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    (datasource,) = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    # Prometheus evaluates alerts.yml; Grafana lists those rules through the datasource.
    assert datasource["jsonData"]["manageAlerts"] is True
    (provider,) = load_yaml(provisioning / "dashboards" / "dialognet.yml")["providers"]
    for path in DASHBOARDS:
        assert mounted_host_path("grafana", f"{provider['options']['path']}/{path.name}").is_file()
    assert mounted_host_path(
        "grafana", "/etc/grafana/provisioning/dashboards/dialognet.yml"
    ).is_file()
