"""Every metric the alert rules and the Grafana dashboards (deploy/) name is exported by a
running service: registration's and reporting's /metrics as they answer, notification's as
agreed with the engineer building it (tests/unit/deploy/test_deploy.py has the offline checks)."""

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import RunningService
from tests.integration.reporting.conftest import RunningReporting
from tests.unit.deploy.test_deploy import NOTIFICATION_METRICS, deploy_metric_names


def _exported(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


async def test_every_metric_in_deploy_is_exported_by_a_running_service(
    registration: RunningService, reporting: RunningReporting
) -> None:
    exported = _exported((await registration.public.get("/metrics")).text)
    exported |= _exported(await reporting.metrics_text())
    used = deploy_metric_names()
    assert used
    assert used - exported - NOTIFICATION_METRICS == set()
