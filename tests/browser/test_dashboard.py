"""The reporting dashboard in a real browser (Debian's chromium): only the sign-in page without
a staff session; signed in, every section with its numbers as a table and charts drawn by the
service's own Chart.js; it refreshes by itself without a reload; English switchable and
remembered; no CSP refusal; axe-core finds no WCAG 2.1 A/AA violation; readable on a phone.
Screenshots (desktop and phone width) go to tests/browser/screenshots/."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from schemas.topics import Topic, topic_name
from tests.browser.test_cancel_page import accessibility_violations
from tests.conftest import TEST_ADMIN_TOKEN, Infra
from tests.integration.reporting import history
from tests.integration.reporting.conftest import (
    RunningReporting,
)
from tests.integration.reporting.test_pipeline import _forum
from tests.kafka_helpers import produce

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SECTIONS = ("network", "growth", "forums", "funnel", "activity", "emails", "pipeline")
ALL_CHARTS_DRAWN = "() => window.Chart && Object.keys(window.Chart.instances).length === 4"


@pytest.fixture(scope="module")
async def dashboard(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningReporting]:
    async with history.made_live(
        infra, tmp_path_factory.mktemp("dash"), reporting_dashboard_refresh_seconds=2
    ) as live:
        yield live.reporting


async def _signed_in(
    chromium: Any, service: RunningReporting, viewport: dict[str, int]
) -> tuple[Any, Any, list[str]]:
    context = await chromium.new_context(viewport=viewport)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(service.base_url + "/")
    await page.get_by_label("Token").fill(TEST_ADMIN_TOKEN)
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_role("heading", name="Dashboard", level=1).wait_for()
    return context, page, console


async def _screenshots(page: Any, width: str) -> None:
    """The whole page, and each section on its own (to look at its chart and table closely)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"dashboard-{width}.png"), full_page=True)
    for section in SECTIONS:
        shot = SCREENSHOTS / f"dashboard-{width}-{section}.png"
        await page.locator(f"#{section}").screenshot(path=str(shot))


async def test_without_a_session_only_the_sign_in_page_shows(
    dashboard: RunningReporting, chromium: Any
) -> None:
    context = await chromium.new_context()
    try:
        page = await context.new_page()
        await page.goto(dashboard.base_url + "/")
        await page.get_by_role("heading", name="Anmeldung zu den Auswertungen").wait_for()
        assert await page.locator("table").count() == 0
        assert history.WORKSHOP not in await page.content()
        assert await accessibility_violations(page) == []
        await page.get_by_label("Token").fill("falsch")
        await page.get_by_role("button", name="Anmelden").click()
        assert "unbekannt" in await page.get_by_role("alert").inner_text()
        assert (await page.title()).startswith("Fehler:")
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "sign-in-refused.png"), full_page=True)
        assert await accessibility_violations(page) == []
        numbers = await page.request.get(dashboard.base_url + "/v1/dashboard")
        assert numbers.status == 401
    finally:
        await context.close()


async def test_signed_in_the_dashboard_shows_draws_and_refreshes(
    dashboard: RunningReporting, chromium: Any
) -> None:
    context, page, console = await _signed_in(chromium, dashboard, DESKTOP)
    try:
        cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
        session = cookies["dialognet_session"]
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Strict"
        forums = page.locator('[data-table="forums"]')
        assert history.WORKSHOP in await forums.inner_text()
        for section in SECTIONS:
            assert await page.locator(f'[data-table="{section}"] tbody tr').count() > 0, section
        # Charts drawn by Chart.js from /static/vendor/ (nothing from another origin).
        await page.wait_for_function(ALL_CHARTS_DRAWN)
        assert await page.evaluate("() => typeof window.Chart.version") == "string"
        await _screenshots(page, "desktop")
        assert await accessibility_violations(page) == []

        # A forum scheduled now appears without a reload.
        arrived = _forum("Neu angesetzt: Sprechstunde im Quartier")
        settings = dashboard.settings
        forums_topic = topic_name(Topic.FORUMS, settings.topic_prefix)
        await produce(settings.kafka_bootstrap or "", forums_topic, arrived.to_json(), arrived.key)
        loaded_at = await page.evaluate("() => performance.timeOrigin")
        await forums.get_by_text("Neu angesetzt: Sprechstunde im Quartier").wait_for(timeout=30_000)
        assert await page.evaluate("() => performance.timeOrigin") == loaded_at  # no reload

        await page.get_by_role("link", name="English").click()
        await page.get_by_role("heading", name="Upcoming forums").wait_for()
        await page.goto(dashboard.base_url + "/")  # no ?lang=: the choice is remembered
        await page.get_by_role("heading", name="Upcoming forums").wait_for()
    finally:
        await context.close()
    assert [line for line in console if "Content Security Policy" in line] == []


async def test_readable_on_a_phone(dashboard: RunningReporting, chromium: Any) -> None:
    context, page, _ = await _signed_in(chromium, dashboard, PHONE)
    try:
        await page.wait_for_function(ALL_CHARTS_DRAWN)
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # wide tables scroll inside their own region
        await _screenshots(page, "phone")
        assert await accessibility_violations(page) == []
    finally:
        await context.close()


def _contrast(colour: str) -> float:
    """Against white, as WCAG 2.1 defines it, of a #rrggbb colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
    return 1.05 / (luminance + 0.05)


DRAWN = """() => Object.values(window.Chart.instances).map((chart) => [
  chart.canvas.dataset.chart,
  chart.data.datasets.map((set) => ({
    label: set.label,
    fill: set.backgroundColor instanceof CanvasPattern ? "hatched" : String(set.backgroundColor),
    edge: String(set.borderColor),
    dash: (set.borderDash || []).join(","),
    point: set.pointStyle || "",
  })),
])"""
KEYS = """(section) => Array.from(
  document.querySelectorAll(`[data-table="${section}"] thead th`),
  (th) => [th.textContent.trim(), th.querySelector(".key")?.className ?? null],
)"""
PALETTE = """() => ["blue", "vermillion", "green", "grey"].map((name) =>
  getComputedStyle(document.documentElement).getPropertyValue(`--series-${name}`).trim())"""


async def test_every_series_has_a_look_of_its_own_in_its_chart_and_table(
    dashboard: RunningReporting, chromium: Any
) -> None:
    context, page, _ = await _signed_in(chromium, dashboard, DESKTOP)
    try:
        await page.wait_for_function(ALL_CHARTS_DRAWN)
        charts = dict(await page.evaluate(DRAWN))
        for section, series in charts.items():
            looks = [(s["fill"], s["edge"], s["dash"], s["point"]) for s in series]
            assert len(set(looks)) == len(looks), section  # never two alike, by more than hue
        sent, failed = charts["emails"]
        assert (sent["label"], sent["fill"]) == ("Versandt", "#0072b2")
        assert (failed["label"], failed["fill"]) == ("Fehlgeschlagen", "hatched")
        waitlist = charts["forums"][2]
        assert (waitlist["label"], waitlist["fill"]) == ("Plätze auf der Warteliste", "hatched")
        # The table beneath says which column is which series, in the same colour and cue.
        assert await page.evaluate(KEYS, "emails") == [
            ["Art", None],
            ["Versandt", "key key--blue key--solid"],
            ["Fehlgeschlagen", "key key--vermillion key--hatched"],
        ]
        assert [key for _, key in await page.evaluate(KEYS, "network")] == [None] * 6  # no chart
        for colour in await page.evaluate(PALETTE):
            assert _contrast(colour) >= 3.0, colour  # WCAG 1.4.11, against the white sections
    finally:
        await context.close()
