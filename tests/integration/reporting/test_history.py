"""The scripted history (the demo's and a few steps more) through the real registration service
and broker into the reporting service: exactly the expected report numbers and metric values;
the same history delivered twice and shuffled across and within topics gives the same."""

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.runtime.settings import Settings
from tests import conftest as platform
from tests.conftest import TEST_ADMIN_TOKEN, Infra, fresh_database
from tests.integration.reporting import history
from tests.integration.reporting.conftest import (
    RunningReporting,
    every_report,
    read_model_metrics,
    reporting_settings,
    running_reporting,
)
from tests.polling import until
from tests.service_process import service_process

# organization.registered 15 + interested 1 + joined 14 + left 1 + erased 1
ORGANIZATION_EVENTS = 32
# 5 scheduled + 1 (the workshop), updated 2 + 1 (closing the conference), held 2, cancelled 1
FORUM_EVENTS = 12
# made 25 + 4, cancelled 2, promoted 1
REGISTRATION_EVENTS = 32
ALL_EVENTS = ORGANIZATION_EVENTS + FORUM_EVENTS + REGISTRATION_EVENTS + len(history.EMAILS)


@dataclass(frozen=True)
class Baseline:
    settings: Settings
    facts: list[history.Recorded]
    reports: dict[str, Any]
    metrics: dict[Any, float]
    reporting: RunningReporting


@pytest.fixture(scope="module")
async def baseline(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Baseline]:
    """The history made live: registration and reporting running while it happens."""
    async with history.made_live(infra, tmp_path_factory.mktemp("history")) as live:
        reporting = live.reporting
        reports = await every_report(reporting)
        metrics = await read_model_metrics(reporting)
        yield Baseline(reporting.settings, live.facts, reports, metrics, reporting)


async def test_the_history_is_what_the_test_expects(baseline: Baseline) -> None:
    assert len(baseline.facts) == ALL_EVENTS


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


async def test_network_report_numbers(baseline: Baseline) -> None:
    network = baseline.reports["network"]
    assert network["organizations_total"] == 15
    assert network["partners"] == 13
    assert _by(network["by_status"], "status") == {
        "partner": {"status": "partner", "organizations": 13},
        "former": {"status": "former", "organizations": 1},
        "prospect": {"status": "prospect", "organizations": 1},
    }
    kinds = _by(network["by_kind"], "kind")
    assert kinds["culture"] == {"kind": "culture", "organizations": 2, "prospects": 0,
                                "interested": 0, "partners": 2, "former": 0}  # fmt: skip
    assert kinds["sports"]["former"] == 1
    assert kinds["social_services"]["prospects"] == 1
    assert sum(kind["organizations"] for kind in network["by_kind"]) == 15
    districts = _by(network["by_district"], "district")
    assert districts["Oststadt"] == {"district": "Oststadt", "organizations": 2, "partners": 1}
    [month] = network["growth"]
    assert month | {"month": None} == {
        "month": None, "registered": 15, "interested": 1, "joined": 14, "left": 1,
        "partners_at_month_end": 13, "organizations_at_month_end": 15,
    }  # fmt: skip
    [left] = network["partners_left"]
    assert left["name"] == history.KIEZKICKER


async def test_forum_report_numbers(baseline: Baseline) -> None:
    forums = _by(baseline.reports["forums"]["forums"], "title")
    first = forums["1. Forum Dialog und Vertrauen: Racial Profiling und Gleichbehandlung"]
    assert {k: first[k] for k in (
        "status", "capacity", "seats_confirmed", "seats_remaining", "fill_rate",
        "registrations_confirmed", "organizations_registered", "organizations_presenting",
        "accessibility_needs", "attendance", "registrations_attended", "attendance_rate",
    )} == {
        "status": "held", "capacity": 60, "seats_confirmed": 10, "seats_remaining": 50,
        "fill_rate": 0.1667, "registrations_confirmed": 7, "organizations_registered": 7,
        "organizations_presenting": 2, "accessibility_needs": 1, "attendance": 15,
        "registrations_attended": 6, "attendance_rate": 0.8571,
    }  # fmt: skip
    assert first["topics"] == ["Racial Profiling", "Gleichbehandlung", "Beschwerdewege"]
    upcoming = forums[history.UPCOMING]
    assert (upcoming["seats_confirmed"], upcoming["registrations_cancelled"]) == (5, 1)
    assert (upcoming["seats_remaining"], upcoming["fill_rate"]) == (35, 0.125)
    workshop = forums[history.WORKSHOP]
    assert {k: workshop[k] for k in (
        "seats_confirmed", "seats_remaining", "fill_rate", "waitlist_length", "seats_waitlisted",
        "registrations_confirmed", "registrations_cancelled", "seats_cancelled",
        "interpreter_needs", "status",
    )} == {
        "seats_confirmed": 3, "seats_remaining": 0, "fill_rate": 1.0, "waitlist_length": 1,
        "seats_waitlisted": 1, "registrations_confirmed": 2, "registrations_cancelled": 1,
        "seats_cancelled": 1, "interpreter_needs": 1, "status": "scheduled",
    }  # fmt: skip
    assert forums[history.FACHTAG]["status"] == "cancelled"
    assert len(forums) == 6


async def test_the_erased_organisations_name_is_gone_and_its_registration_counts(
    baseline: Baseline,
) -> None:
    forums = _by(baseline.reports["forums"]["forums"], "title")
    conference = forums["Offene Netzwerkkonferenz: Gemeinsam für Vertrauen"]
    detail = baseline.reports[f"forums/{conference['forum_id']}"]
    names = [organization["organization_name"] for organization in detail["organizations"]]
    assert len(names) == 8 == conference["organizations_registered"]
    assert history.LICHTBLICK not in names
    assert names.count(None) == 1
    assert history.LOTUS in names


async def test_funnel_and_email_numbers(baseline: Baseline) -> None:
    funnel = baseline.reports["funnel"]
    assert (
        funnel["registered_for_forum"],
        funnel["declared_interest"],
        funnel["joined_as_partner"],
    ) == (15, 1, 1)
    assert funnel["median_days_registration_to_interest"] == 0.0
    assert funnel["median_days_interest_to_joining"] == 0.0
    emails = baseline.reports["emails"]
    assert (emails["sent"], emails["failed"]) == (3, 1)
    assert _by(emails["by_kind"], "kind")["registration_confirmed"] == {
        "kind": "registration_confirmed", "sent": 2, "failed": 0,
    }  # fmt: skip
    [day] = emails["failures_by_day"]
    assert day["failed"] == 1


async def test_metric_values(baseline: Baseline) -> None:
    metrics = baseline.metrics

    def value(name: str, **labels: str) -> float:
        return metrics[(name, tuple(sorted(labels.items())))]

    assert value("dialognet_reporting_organizations", status="partner", kind="culture") == 2
    assert value("dialognet_reporting_organizations", status="former", kind="sports") == 1
    assert value("dialognet_reporting_registrations_total") == 29
    assert value("dialognet_reporting_registration_cancellations_total") == 2
    assert value("dialognet_reporting_forums_held_total") == 2
    assert value("dialognet_reporting_forum_attendance_total") == 28
    assert (
        value("dialognet_reporting_emails_total", kind="registration_confirmed", result="sent") == 2
    )
    assert value("dialognet_reporting_emails_total", kind="forum_reminder", result="failed") == 1
    scheduled = {
        dict(labels)["title"]: number
        for (name, labels), number in metrics.items()
        if name == "dialognet_reporting_forum_seats_confirmed"
    }
    assert scheduled == {
        "Offene Netzwerkkonferenz: Gemeinsam für Vertrauen": 12,
        history.UPCOMING: 5,
        history.WORKSHOP: 3,
    }
    waitlists = {
        dict(labels)["title"]: number
        for (name, labels), number in metrics.items()
        if name == "dialognet_reporting_forum_waitlist_length"
    }
    assert waitlists[history.WORKSHOP] == 1
    remaining = {
        dict(labels)["title"]: number
        for (name, labels), number in metrics.items()
        if name == "dialognet_reporting_forum_seats_remaining"
    }
    assert remaining == {
        "Offene Netzwerkkonferenz: Gemeinsam für Vertrauen": 138,
        history.UPCOMING: 35,
        history.WORKSHOP: 0,
    }
    assert value("dialognet_reporting_events_total", topic="registrations") == REGISTRATION_EVENTS
    assert value("dialognet_reporting_events_total", topic="notifications") == len(history.EMAILS)


async def test_twice_and_shuffled_gives_the_same_numbers(
    baseline: Baseline, infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> None:
    async with fresh_database(infra) as database_url:
        prefix = f"t{secrets.token_hex(4)}."
        settings = reporting_settings(
            platform.test_settings(infra, database_url, prefix, tmp_path_factory.mktemp("shuffled"))
        )
        async with running_reporting(settings) as reporting:
            await history.publish(infra.kafka_bootstrap, prefix, baseline.facts, seed=8)
            await history.publish(infra.kafka_bootstrap, prefix, baseline.facts, seed=11)
            await reporting.wait_for_events(len(baseline.facts))
            await _settled(reporting, 2 * len(baseline.facts))
            assert await every_report(reporting) == baseline.reports
            assert await read_model_metrics(reporting) == baseline.metrics


async def _settled(reporting: RunningReporting, delivered: int) -> None:
    """Every delivered message was consumed (the duplicates too), so nothing changes later."""

    async def all_consumed() -> bool:
        samples = await reporting.samples("dialognet_reporting_consumer_lag_messages")
        return bool(samples) and sum(samples.values()) == 0

    await until(all_consumed, 60, f"all {delivered} messages consumed", interval=0.1)


async def test_csv_opens_in_a_german_spreadsheet(baseline: Baseline) -> None:
    response = await baseline.reporting.staff.get(
        "/v1/reports/forums", headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    lines = response.content.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header[:3] == ["Forums-ID", "Titel", "Format"]
    assert "Auslastung" in header
    assert "Barrierefreiheitsbedarf" in header
    workshop = next(line.split(";") for line in lines if history.WORKSHOP in line)
    assert workshop[header.index("Auslastung")] == "1"
    upcoming = next(line.split(";") for line in lines if history.UPCOMING in line)
    assert upcoming[header.index("Auslastung")] == "0,125"
    assert upcoming[header.index("Plätze frei")] == "35"
    assert len(lines) == 1 + 6


async def test_csv_in_english_and_other_tables(baseline: Baseline) -> None:
    staff = baseline.reporting.staff
    growth = await staff.get(
        "/v1/reports/network", params={"format": "csv", "lang": "en", "table": "growth"}
    )
    lines = growth.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Month,Registered,Interested,Joined,Left,Partners at month end,Organisations at month end"
    )
    assert lines[1].split(",")[1:] == ["15", "1", "14", "1", "13", "15"]
    assert 'filename="network-growth.csv"' in growth.headers["content-disposition"]
    funnel = await staff.get("/v1/reports/funnel", params={"format": "csv", "lang": "en"})
    rows = [line.split(",") for line in funnel.content.decode("utf-8-sig").splitlines()]
    assert [row[:2] for row in rows[1:]] == [
        ["registered_for_forum", "15"], ["declared_interest", "1"], ["joined_as_partner", "1"],
    ]  # fmt: skip


async def test_date_ranges(baseline: Baseline) -> None:
    staff = baseline.reporting.staff
    held_2025 = (
        await staff.get("/v1/reports/forums", params={"from": "2025-01-01", "to": "2025-12-31"})
    ).json()
    assert [forum["status"] for forum in held_2025["forums"]] == ["held", "held"]
    assert held_2025["period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    before = (await staff.get("/v1/reports/funnel", params={"to": "2024-12-31"})).json()
    assert before["registered_for_forum"] == 0
    network = (await staff.get("/v1/reports/network", params={"to": "2024-12-31"})).json()
    assert network["growth"] == []
    assert network["organizations_total"] == 15


@contextlib.asynccontextmanager
async def replica(settings: Settings, log_path: Path) -> AsyncIterator[RunningReporting]:
    """`dialognet run reporting` as its own process, as a container runs it."""
    settings = reporting_settings(settings)
    async with service_process(settings, "reporting", settings.reporting_port, log_path) as running:
        headers = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
        async with (
            httpx.AsyncClient(base_url=running.base_url, headers=headers, timeout=30) as staff,
            httpx.AsyncClient(base_url=running.base_url, timeout=30) as public,
        ):
            yield RunningReporting(settings, running.base_url, staff, public)


async def test_two_replicas_give_the_same_metrics(
    baseline: Baseline, infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = tmp_path_factory.mktemp("replicas")
    async with fresh_database(infra) as database_url:
        prefix = f"t{secrets.token_hex(4)}."
        settings = platform.test_settings(infra, database_url, prefix, logs)
        async with (
            replica(settings, logs / "a.log") as first,
            replica(settings, logs / "b.log") as second,
        ):
            await history.publish(infra.kafka_bootstrap, prefix, baseline.facts, seed=3)
            await first.wait_for_events(len(baseline.facts))
            await second.wait_for_events(len(baseline.facts))
            await _settled(first, len(baseline.facts))
            from_first, from_second = (
                await read_model_metrics(first),
                await read_model_metrics(second),
            )
            assert from_first == from_second == baseline.metrics
            lag_first = await first.samples("dialognet_reporting_consumer_lag_messages")
            assert lag_first == await second.samples("dialognet_reporting_consumer_lag_messages")
            assert len(lag_first) == 3 + 3 + 6 + 3  # every partition of the four topics
            assert await every_report(first) == await every_report(second) == baseline.reports
