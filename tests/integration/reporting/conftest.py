"""The reporting service running in-process over real HTTP, beside a real broker and PostgreSQL,
and the scripted history (the demo's, plus a few steps) its tests feed it."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.reporting.app import create_app
from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN
from tests.polling import until
from tests.serving import served

CONVERGE_SECONDS = 60.0


def reporting_settings(settings: Settings, **overrides: object) -> Settings:
    """The platform's settings with a free reporting port; every scrape reads the database."""
    port = free_port()
    return settings.model_copy(
        update={
            "reporting_port": port,
            "reporting_public_base_url": f"http://127.0.0.1:{port}",
            "reporting_metrics_cache_seconds": 0.0,
            **overrides,
        }
    )


@dataclass
class RunningReporting:
    settings: Settings
    base_url: str
    staff: httpx.AsyncClient
    public: httpx.AsyncClient

    async def report(self, path: str, **params: str) -> dict[str, object]:
        response = await self.staff.get(f"/v1/reports/{path}", params=params)
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        body: dict[str, object] = response.json()
        return body

    async def metrics_text(self) -> str:
        response = await self.public.get("/metrics")
        assert response.status_code == 200
        return response.text

    async def samples(
        self, prefix: str = "dialognet_reporting_"
    ) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of the reporting metrics: (name, sorted labels) → value."""
        found = {}
        for family in text_string_to_metric_families(await self.metrics_text()):
            for sample in family.samples:
                if sample.name.startswith(prefix) and not sample.name.endswith("_created"):
                    found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return found

    async def events_applied(self) -> int:
        samples = await self.samples("dialognet_reporting_events_total")
        return int(sum(samples.values()))

    async def wait_for_events(self, count: int, timeout: float = CONVERGE_SECONDS) -> None:
        async def applied() -> bool:
            return await self.events_applied() >= count

        await until(applied, timeout, f"{count} events applied to the read models", interval=0.1)


@contextlib.asynccontextmanager
async def running_reporting(settings: Settings) -> AsyncIterator[RunningReporting]:
    headers = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
    async with (
        served(create_app(settings), settings.reporting_port, "reporting service") as base_url,
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as staff,
        httpx.AsyncClient(base_url=base_url, timeout=30) as public,
    ):
        yield RunningReporting(settings, base_url, staff, public)


@pytest.fixture
async def reporting(settings: Settings) -> AsyncIterator[RunningReporting]:
    async with running_reporting(reporting_settings(settings)) as running:
        yield running


# Pipeline metrics that depend on when and how the events were delivered, not on which.
DELIVERY_DEPENDENT = (
    "dialognet_reporting_event_latency_seconds",
    "dialognet_reporting_consumer_lag_messages",
)
REPORTS = ("network", "forums", "funnel", "emails")


def without_volatile(value: object) -> object:
    """A report without the moment it was computed."""
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k != "generated_at"}
    if isinstance(value, list):
        return [without_volatile(item) for item in value]
    return value


async def every_report(service: RunningReporting) -> dict[str, object]:
    """Every report, and the report of each forum, without their times of computing."""
    reports: dict[str, object] = {path: await service.report(path) for path in REPORTS}
    forums = reports["forums"]
    assert isinstance(forums, dict)
    for forum in forums["forums"]:
        reports[f"forums/{forum['forum_id']}"] = await service.report(f"forums/{forum['forum_id']}")
    return {path: without_volatile(report) for path, report in reports.items()}


async def read_model_metrics(
    service: RunningReporting,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The reporting metrics that must not depend on delivery, topic prefix stripped."""
    prefix = service.settings.topic_prefix
    return {
        (name, tuple((k, v.removeprefix(prefix) if k == "topic" else v) for k, v in labels)): value
        for (name, labels), value in (await service.samples()).items()
        if not name.startswith(DELIVERY_DEPENDENT)
    }
