"""Every metric the alert rules and the Grafana dashboards (deploy/) name is exported by a
running service: registration's, notification's and reporting's /metrics as they answer
(tests/unit/deploy/test_monitoring.py has the offline check against the collectors)."""

from prometheus_client.parser import text_string_to_metric_families

from services.runtime.settings import Settings
from tests.integration.notification.conftest import platform_settings, running_platform
from tests.integration.reporting.conftest import reporting_settings, running_reporting
from tests.unit.deploy.deploy_files import deploy_metric_names


def _exported(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


async def test_every_metric_in_deploy_is_exported_by_a_running_service(settings: Settings) -> None:
    async with (
        running_platform(platform_settings(settings)) as platform,
        running_reporting(reporting_settings(settings)) as reporting,
    ):
        by_service = {
            "registration": _exported((await platform.registration.public.get("/metrics")).text),
            "notification": _exported((await platform.notification.get("/metrics")).text),
            "reporting": _exported(await reporting.metrics_text()),
        }
    used = deploy_metric_names()
    assert used
    for service, exported in by_service.items():
        assert any(name.startswith(f"dialognet_{service}_") for name in exported), service
    assert used - set().union(*by_service.values()) == set()
