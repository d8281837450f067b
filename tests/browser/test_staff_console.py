"""The staff console in a real browser (Debian's chromium): a staff member signs in, schedules a
forum (after a refused try whose error summary takes the focus), sees a registration, marks the
forum held with who attended and erases an organisation; axe-core finds no WCAG 2.1 A/AA
violation on any page in any state; a keyboard starts at the skip link; nothing overflows at
320 px or at 200% zoom; no CSP refusal; English switchable. Screenshots of the main pages at
desktop and phone width go to tests/browser/screenshots/."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from schemas.vocabulary import BERLIN
from tests.browser.test_cancel_page import accessibility_violations
from tests.browser.test_dashboard import DESKTOP, PHONE, SCREENSHOTS
from tests.conftest import TEST_ADMIN_TOKEN
from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, new_organization, registered

NARROWEST = {"width": 320, "height": 640}
# 200% zoom of a 1280 px wide window: the page gets 640 CSS pixels.
ZOOMED = {"width": 640, "height": 450}
LOCAL_TIME = "%Y-%m-%dT%H:%M"


def berlin(moment: datetime) -> str:
    return moment.astimezone(BERLIN).strftime(LOCAL_TIME)


class Visit:
    """A browser tab that checks every page it shows: axe, no horizontal overflow, no CSP
    refusal; and screenshots the ones named."""

    def __init__(self, page: Any, width: str) -> None:
        self.page = page
        self.width = width
        self.violations: dict[str, list[str]] = {}
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))

    async def check(self, name: str, *, screenshot: bool = False) -> None:
        self.violations[name] = await accessibility_violations(self.page)
        overflow = await self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            widest = await self.page.evaluate(
                "() => [...document.querySelectorAll('body *')].filter(e =>"
                " e.getBoundingClientRect().right > document.documentElement.clientWidth"
                " && !e.closest('.table-wrap'))"
                ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
            )
            raise AssertionError(f"{name} is {overflow} px wider than the window: {widest}")
        if screenshot:
            SCREENSHOTS.mkdir(exist_ok=True)
            path = SCREENSHOTS / f"staff-{name}-{self.width}.png"
            await self.page.screenshot(path=str(path), full_page=True)


async def _run_the_console(
    service: RunningService, chromium: Any, viewport: dict[str, int], width: str
) -> Visit:
    starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=40)
    organization = await new_organization(service, name=f"Verein zum Löschen {width}")
    context = await chromium.new_context(viewport=viewport)
    page = await context.new_page()
    visit = Visit(page, width)
    try:
        await page.goto(service.base_url + "/staff/")
        await page.get_by_role("heading", name="Anmeldung zur Konsole").wait_for()
        await page.keyboard.press("Tab")  # the first stop of a keyboard is the skip link
        assert await page.evaluate("() => document.activeElement.className") == "skip-link"
        await visit.check("sign-in", screenshot=True)
        await page.get_by_label("Token").fill(TEST_ADMIN_TOKEN)
        await page.get_by_role("button", name="Anmelden").click()
        await page.get_by_role("heading", name="Foren", level=1).wait_for()
        await visit.check("forums")

        await page.get_by_role("link", name="Forum planen").click()
        await page.get_by_label("Beginn").fill(berlin(starts))
        await page.get_by_role("button", name="Forum planen").click()
        summary = page.get_by_role("alert")
        await summary.wait_for()
        # The error summary has the focus, so a screen reader reads it out first.
        assert await summary.evaluate("element => document.activeElement === element")
        assert "Füllen Sie dieses Feld aus." in await summary.inner_text()
        await visit.check("schedule-refused", screenshot=True)
        await summary.get_by_role("link").first.click()  # and leads to the first field
        assert await page.get_by_label("Titel").evaluate("f => document.activeElement === f")
        assert await page.get_by_label("Beginn").input_value() == berlin(starts)  # kept

        title = f"Forum Polizei und Jugend ({width})"
        await page.get_by_label("Titel").fill(title)
        await page.get_by_label("Format").select_option("dialogue")
        await page.get_by_label("Themen (freiwillig)").fill("Dialogformate\nJunge Menschen")
        await page.get_by_label("Ort").fill("Jugendzentrum Mitte")
        await page.get_by_label("Ende").fill(berlin(starts + timedelta(hours=5)))
        await page.get_by_label("Anmeldeschluss").fill(berlin(starts - timedelta(days=7)))
        await page.get_by_label("Plätze", exact=True).fill("30")
        await page.get_by_role("button", name="Forum planen").click()
        await page.get_by_role("heading", name=title, level=1).wait_for()
        assert "Das Forum ist geplant." in await page.get_by_role("status").inner_text()
        forum_id = page.url.split("/staff/forums/")[1].split("?")[0]

        made = await registered(service, forum_id, name="Lea Beispiel")
        await page.goto(f"{service.base_url}/staff/forums/{forum_id}")
        await page.get_by_role("cell", name="Lea Beispiel").wait_for()
        await visit.check("forum", screenshot=True)

        await page.get_by_role("link", name="Als durchgeführt eintragen").click()
        await page.get_by_label("Lea Beispiel", exact=False).check()
        await page.get_by_label("Teilnehmende insgesamt").fill("12")
        await page.get_by_label("Ergebnisse (freiwillig)").fill("Zwei Vereinbarungen.")
        await visit.check("held", screenshot=True)
        await page.get_by_role("button", name="Als durchgeführt eintragen").click()
        assert "durchgeführt eingetragen" in await page.get_by_role("status").inner_text()
        assert await page.get_by_text("Durchgeführt", exact=True).count() >= 1

        await page.get_by_role("link", name="Organisationen", exact=True).click()
        await page.get_by_role("heading", name="Organisationen", level=1).wait_for()
        await visit.check("organizations", screenshot=True)
        await page.get_by_role("link", name=organization["name"]).click()
        await visit.check("organization", screenshot=True)
        await page.get_by_role("link", name="Löschen …").click()
        assert organization["contact"]["email"] in await page.locator("main").inner_text()
        await visit.check("erase", screenshot=True)
        await page.get_by_role("button", name="Personenbezogene Daten löschen").click()
        assert "gelöscht" in await page.get_by_role("status").inner_text()

        await page.get_by_role("link", name="Tokens", exact=True).click()
        await page.get_by_label("Name des Systems").fill(f"portal-{width}")
        await page.get_by_role("button", name="Token erstellen").click()
        await visit.check("token-created", screenshot=True)
        await page.get_by_role("link", name="Zurück zu den Tokens").click()
        await visit.check("tokens", screenshot=True)

        await page.get_by_role("link", name="English").click()
        await page.get_by_role("heading", name="Tokens", level=1).wait_for()
        await page.get_by_role("link", name="Forums", exact=True).click()
        await page.get_by_role("heading", name="Forums", level=1).wait_for()
        await visit.check("forums-english", screenshot=True)
        assert made["id"]
    finally:
        await context.close()
    return visit


async def test_a_staff_member_runs_a_forum_at_desktop_width(
    service: RunningService, chromium: Any
) -> None:
    visit = await _run_the_console(service, chromium, DESKTOP, "desktop")
    assert {name: found for name, found in visit.violations.items() if found} == {}
    assert [line for line in visit.console if "Content Security Policy" in line] == []


async def test_the_console_works_on_a_phone_at_320_px_and_at_200_percent_zoom(
    service: RunningService, chromium: Any
) -> None:
    for viewport, width in ((PHONE, "phone"), (NARROWEST, "320px"), (ZOOMED, "zoomed")):
        visit = await _run_the_console(service, chromium, viewport, width)
        assert {name: found for name, found in visit.violations.items() if found} == {}, width


async def test_the_focus_is_visible(service: RunningService, chromium: Any) -> None:
    context = await chromium.new_context(viewport=DESKTOP)
    try:
        page = await context.new_page()
        await page.goto(service.base_url + "/staff/sign-in")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")  # skip link, language link, the token field
        focused = await page.evaluate(
            "() => [document.activeElement.id,"
            " getComputedStyle(document.activeElement).outlineStyle]"
        )
    finally:
        await context.close()
    assert focused == ["token", "solid"]


async def test_the_forms_work_without_javascript(service: RunningService, chromium: Any) -> None:
    context = await chromium.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(service.base_url + "/staff/sign-in")
        await page.get_by_label("Token").fill(TEST_ADMIN_TOKEN)
        await page.get_by_role("button", name="Anmelden").click()
        await page.get_by_role("link", name="Tokens", exact=True).click()
        await page.get_by_label("Name des Systems").fill("ohne-script")
        await page.get_by_role("button", name="Token erstellen").click()
        await page.get_by_role("heading", name="Das Token für ohne-script").wait_for()
    finally:
        await context.close()


async def test_every_other_page_and_state_meets_wcag_21_aa(
    service: RunningService, chromium: Any
) -> None:
    """The pages the staff member's walk above does not show: refusals, confirmations, forms."""
    forum = await new_forum(service, bodies.forum(title="Forum für die Prüfung"))
    made = await registered(service, forum["id"])
    base = service.base_url
    context = await chromium.new_context(viewport=DESKTOP)
    page = await context.new_page()
    visit = Visit(page, "desktop")
    try:
        await page.goto(f"{base}/staff/sign-in")
        await page.get_by_label("Token").fill("falsch")
        await page.get_by_role("button", name="Anmelden").click()
        assert await page.get_by_role("alert").evaluate("e => document.activeElement === e")
        await visit.check("sign-in-refused")
        await page.get_by_label("Token").fill(TEST_ADMIN_TOKEN)
        await page.get_by_role("button", name="Anmelden").click()
        await page.get_by_role("heading", name="Foren", level=1).wait_for()
        for name, path in (
            ("edit", f"/staff/forums/{forum['id']}/edit"),
            ("cancel-forum", f"/staff/forums/{forum['id']}/cancel"),
            ("cancel-registration", f"/staff/registrations/{made['id']}/cancel"),
            ("new-organization", "/staff/organizations/new"),
            ("not-found", f"/staff/forums/{uuid4()}"),
        ):
            await page.goto(base + path)
            await visit.check(name, screenshot=name == "cancel-forum")
        await page.goto(f"{base}/staff/organizations/new")
        await page.get_by_label("E-Mail-Adresse").fill("keine-adresse")
        await page.get_by_role("button", name="Organisation anlegen").click()
        await page.get_by_role("alert").wait_for()
        await visit.check("new-organization-refused", screenshot=True)
        await page.goto(f"{base}/staff/tokens")
        forged = page.locator("form[action='/staff/tokens'] input[name=csrf_token]")
        await forged.evaluate("field => field.value = 'x'")
        await page.get_by_role("button", name="Token erstellen").click()
        refused = "Das Formular konnte nicht angenommen werden"
        await page.get_by_role("heading", name=refused).wait_for()
        await visit.check("form-refused")
    finally:
        await context.close()
    assert {name: found for name, found in visit.violations.items() if found} == {}
