"""The cancel page in a real browser: it works without JavaScript (the form, its CSRF cookie
with SameSite=Strict, the error summary), its stylesheet loads under the CSP, and axe-core finds
no WCAG 2.1 A/AA violation on it."""

from typing import Any

import pytest

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, registered, registrations_of

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ERROR_RED = "rgb(192, 25, 47)"  # .button--warning in site.css


async def accessibility_violations(page: Any) -> list[str]:
    axe_module = pytest.importorskip("axe_playwright_python.async_playwright")
    results = await axe_module.Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}}
    )
    return [
        f"{violation['id']}: {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
    ]


async def test_a_registrant_cancels_in_a_browser_without_javascript(
    service: RunningService, chromium: Any
) -> None:
    forum = await new_forum(service, bodies.forum(title="Forum Racial Profiling"))
    made = await registered(service, forum["id"])
    context = await chromium.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        await page.goto(made["cancel_page_url"])
        button = page.get_by_role("button", name="Meine Anmeldung stornieren")
        assert await button.evaluate("b => getComputedStyle(b).backgroundColor") == ERROR_RED

        await page.get_by_label("Warum stornieren Sie? (optional)").fill("x" * 2001)
        await button.click()
        summary = page.get_by_role("alert")
        assert "Es gibt ein Problem" in await summary.inner_text()
        await summary.get_by_role("link").click()  # the summary leads to the field
        reason = page.get_by_label("Warum stornieren Sie? (optional)")
        assert await reason.evaluate("field => document.activeElement === field")

        await reason.fill("Leider krank.")
        await page.get_by_role("button", name="Meine Anmeldung stornieren").click()
        await page.get_by_role("heading", name="Ihre Anmeldung ist storniert").wait_for()
    finally:
        await context.close()

    # Nothing the Content-Security-Policy refused (the console also logs the 422 and the
    # favicon's 404, which are not refusals).
    assert [line for line in console if "Content Security Policy" in line] == []
    listed = await registrations_of(service, forum["id"])
    assert listed[made["id"]]["status"] == "cancelled"


async def test_the_pages_meet_wcag_21_aa(service: RunningService, chromium: Any) -> None:
    forum = await new_forum(service)
    made = await registered(service, forum["id"], language="en")
    context = await chromium.new_context()
    try:
        page = await context.new_page()
        await page.goto(made["cancel_page_url"])
        shown = await accessibility_violations(page)
        await page.get_by_label("Why are you cancelling? (optional)").fill("\x07" * 3)
        await page.get_by_role("button", name="Cancel my registration").click()
        with_errors = await accessibility_violations(page)
        await page.goto(made["cancel_page_url"].replace("token=", "token=x"))
        invalid = await accessibility_violations(page)
    finally:
        await context.close()

    assert shown == []
    assert with_errors == []
    assert invalid == []
