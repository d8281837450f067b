"""The public pages in a real browser (Debian's chromium) over the real stack — registration,
notification and the mail sink: a newcomer registers without JavaScript, gets the confirmation
page and the e-mail, and cancels through the e-mail's link; a full forum gives the waiting-list
position; bad input, a second registration of one address, a forged form and a filled honeypot
save nothing; English is switched to and remembered; keyboard use (skip link, visible focus,
logical order, the error summary focused); 320 px and 200% zoom without horizontal scrolling;
axe-core finds no WCAG 2.1 A/AA violation on any page in any state. Screenshots of the main
pages at desktop and phone width go to tests/browser/screenshots/."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.runtime.settings import Settings
from tests.browser.test_cancel_page import accessibility_violations
from tests.integration.conftest import running_registration
from tests.integration.notification.conftest import Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    new_forum,
    new_partner,
    ok,
    registered,
    registrations_of,
)
from tests.integration.registration.test_public_pages import FORM_FIELDS

SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NARROWEST = {"width": 320, "height": 640}
# 200% zoom of a 1280 px wide window lays the page out in 640 CSS pixels.
ZOOMED = {"width": 640, "height": 450}
# The form's fields in the order Tab reaches them (the honeypot is out of the tab order).
TAB_ORDER = FORM_FIELDS
FOCUSED_ID = "() => document.activeElement && document.activeElement.id"
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"


@pytest.fixture
async def browser_context(chromium: Any) -> AsyncIterator[Any]:
    """A German reader's browser (Chromium would ask for English otherwise), script on."""
    context = await chromium.new_context(locale="de-DE", viewport=DESKTOP)
    try:
        yield context
    finally:
        await context.close()


async def fill_newcomer(page: Any, email: str, *, attendees: int = 2) -> None:
    await page.get_by_label("Name der Organisation").fill("Nachbarschaftshilfe Ost")
    await page.get_by_label("Art der Organisation").select_option("social_services")
    await page.get_by_label("Vollständiger Name").fill("Selin Kaya")
    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_label("Wie viele Personen nehmen teil?").fill(str(attendees))
    await page.get_by_label("Bedarf an Barrierefreiheit (optional)").fill("Rollstuhlplatz")
    await page.locator("#consent").check()


async def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_a_newcomer_registers_without_javascript_gets_the_mail_and_cancels(
    platform: Platform, chromium: Any
) -> None:
    service = platform.registration
    forum = await new_forum(service, bodies.forum(title="Forum Polizei und Jugend", capacity=30))
    email = bodies.unique_email("newcomer")
    context = await chromium.new_context(
        java_script_enabled=False, locale="de-DE", viewport=DESKTOP
    )
    console: list[str] = []
    try:
        page = await context.new_page()
        page.on("console", lambda message: console.append(message.text))
        await page.goto(service.base_url + "/")
        await screenshot(page, "public-home-desktop")
        await page.get_by_role("link", name="Forum Polizei und Jugend", exact=True).click()
        await page.get_by_role("heading", name="Forum Polizei und Jugend", level=1).wait_for()
        await screenshot(page, "public-forum-desktop")
        await fill_newcomer(page, email)
        await page.get_by_role("button", name="Anmelden").click()
        await page.get_by_role("heading", name="Anmeldung bestätigt").wait_for()
        assert "/registered" in page.url
        assert "token" not in page.url
        assert f"Wir senden eine E-Mail an {email}" in await page.inner_text("main")
        await screenshot(page, "public-result-desktop")
        await page.reload()  # POST/redirect/GET: a reload registers nobody again
        await page.get_by_role("heading", name="Anmeldung bestätigt").wait_for()

        confirmation = await platform.received_once(email, "registration_confirmed")
        [link] = re.findall(r"https?://\S+/registrations/\S+/cancel\?token=\S+", confirmation.text)
        await page.goto(link)  # the link from the e-mail, opened in the browser
        await page.get_by_role("button", name="Meine Anmeldung stornieren").click()
        await page.get_by_role("heading", name="Ihre Anmeldung ist storniert").wait_for()
    finally:
        await context.close()

    assert [line for line in console if "Content Security Policy" in line] == []
    [made] = (await registrations_of(service, forum["id"])).values()
    assert (made["status"], made["organization_name"]) == ("cancelled", "Nachbarschaftshilfe Ost")
    assert made["accessibility_needs"] == "Rollstuhlplatz"
    await platform.received_once(email, "registration_cancelled")


async def test_a_full_forum_puts_the_newcomer_on_the_waitlist(
    platform: Platform, browser_context: Any
) -> None:
    service = platform.registration
    forum = await new_forum(service, bodies.forum(title="Volles Forum", capacity=1))
    await registered(service, forum["id"])
    page = await browser_context.new_page()
    await page.goto(f"{service.base_url}/forums/{forum['id']}")
    assert "auf Platz 1 der Warteliste" in await page.inner_text("main")
    await fill_newcomer(page, bodies.unique_email("wartend"), attendees=1)
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_role("heading", name="Sie stehen auf der Warteliste").wait_for()
    assert "Platz 1" in await page.get_by_role("status").inner_text()
    await screenshot(page, "public-waitlisted-desktop")
    assert await accessibility_violations(page) == []


async def test_bad_input_is_shown_beside_the_field_the_summary_focused_and_nothing_saved(
    platform: Platform, browser_context: Any
) -> None:
    service = platform.registration
    forum = await new_forum(service)
    page = await browser_context.new_page()
    await page.goto(f"{service.base_url}/forums/{forum['id']}")
    await page.get_by_label("E-Mail-Adresse").fill("selin(at)example.org")
    await page.get_by_role("button", name="Anmelden").click()
    summary = page.get_by_role("alert")
    await summary.wait_for()
    assert await page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    assert (await page.title()).startswith("Fehler:")
    message = "Geben Sie eine E-Mail-Adresse wie name@example.org ein"
    beside = page.locator("#contact_email-error")
    assert " ".join((await beside.text_content()).split()) == f"Fehler: {message}"
    assert await beside.is_visible()
    await screenshot(page, "public-form-errors-desktop")
    await summary.get_by_role("link", name=message).click()  # the summary leads to the field
    assert await page.evaluate(FOCUSED_ID) == "contact_email"
    assert await page.get_by_label("E-Mail-Adresse").input_value() == "selin(at)example.org"
    assert await registrations_of(service, forum["id"]) == {}


async def test_the_same_email_twice_is_refused_with_a_message(
    platform: Platform, browser_context: Any
) -> None:
    service = platform.registration
    forum = await new_forum(service)
    email = bodies.unique_email("zweimal")
    page = await browser_context.new_page()
    for _ in range(2):
        await page.goto(f"{service.base_url}/forums/{forum['id']}")
        await fill_newcomer(page, email)
        await page.get_by_role("button", name="Anmelden").click()
        await page.wait_for_load_state()
    assert "bereits angemeldet" in await page.locator("#contact_email-error").inner_text()
    assert len(await registrations_of(service, forum["id"])) == 1


async def test_a_forged_form_and_a_filled_honeypot_save_nothing(
    platform: Platform, browser_context: Any
) -> None:
    service = platform.registration
    forum = await new_forum(service)
    page = await browser_context.new_page()
    await page.goto(f"{service.base_url}/forums/{forum['id']}")
    await fill_newcomer(page, bodies.unique_email("forged"))
    await page.evaluate("() => document.querySelector('[name=csrf_token]').remove()")
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_role("heading", name="Das Formular konnte nicht angenommen werden").wait_for()

    await page.goto(f"{service.base_url}/forums/{forum['id']}")
    await fill_newcomer(page, bodies.unique_email("robot"))
    # Only a program reaches the field: it is off-screen and hidden from assistive technology.
    box = await page.locator("#homepage").bounding_box()
    assert box is not None
    assert box["x"] + box["width"] < 0
    await page.locator("#homepage").fill("http://spam.example", force=True)
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_text("Es wurde nichts gespeichert.").wait_for()
    assert await registrations_of(service, forum["id"]) == {}


async def test_english_is_switched_to_and_remembered(
    platform: Platform, browser_context: Any
) -> None:
    service = platform.registration
    forum = await new_forum(service, bodies.forum(title="Forum Racial Profiling"))
    page = await browser_context.new_page()
    await page.goto(service.base_url + "/")
    await page.get_by_role("link", name="English").click()
    await page.get_by_role("heading", name="Forums and conferences of the network").wait_for()
    assert await page.get_attribute("html", "lang") == "en"
    await page.goto(f"{service.base_url}/forums/{forum['id']}")  # no ?lang=: remembered
    await page.get_by_role("heading", name="Register").wait_for()
    await page.get_by_role("button", name="Register").click()
    await page.get_by_role("heading", name="There is a problem").wait_for()
    assert await accessibility_violations(page) == []
    await page.goto(service.base_url + "/privacy")
    await page.get_by_role("heading", name="Privacy notice for registrations").wait_for()


async def test_the_form_works_with_the_keyboard_alone(
    platform: Platform, browser_context: Any
) -> None:
    service = platform.registration
    forum = await new_forum(service)
    await new_partner(service)  # so that the form offers the partner list
    page = await browser_context.new_page()
    await page.goto(f"{service.base_url}/forums/{forum['id']}")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Hauptinhalt springen")
    assert await page.evaluate("() => document.activeElement.className") == "skip-link"
    assert await skip.is_visible()
    assert await skip.evaluate("link => getComputedStyle(link).outlineStyle") != "none"
    await page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    reached: list[str] = []
    while "register" not in reached and len(reached) < 40:
        await page.keyboard.press("Tab")
        reached.append(await page.evaluate(FOCUSED_ID))
    fields = [element_id for element_id in reached if element_id in [*TAB_ORDER, "homepage"]]
    assert fields == TAB_ORDER  # in the order they are read, the honeypot never reached
    assert reached[-1] == "register"
    button = page.get_by_role("button", name="Anmelden")
    assert await button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 221, 0)"
    await page.keyboard.press("Enter")  # submitted empty: the summary has the focus
    await page.get_by_role("alert").wait_for()
    assert await page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    await page.keyboard.press("Tab")  # on to the summary's first link
    assert await page.evaluate("() => document.activeElement.getAttribute('href')") == (
        "#organization_name"
    )


async def test_nothing_scrolls_sideways_at_320_px_or_200_percent_zoom(
    platform: Platform, chromium: Any
) -> None:
    service = platform.registration
    forum = await new_forum(
        service,
        bodies.forum(
            title="Konferenz: Vertrauensbildung zwischen Polizei und Zivilgesellschaft",
            topics=["psychische Krisen", "Gleichbehandlung", "Dialogformate mit jungen Menschen"],
        ),
    )
    for name, viewport in (("narrowest", NARROWEST), ("zoomed", ZOOMED), ("phone", PHONE)):
        context = await chromium.new_context(locale="de-DE", viewport=viewport)
        try:
            page = await context.new_page()
            await page.goto(service.base_url + "/")
            assert await page.evaluate(SCROLL_WIDTH) <= viewport["width"], (name, "home")
            if name == "phone":
                await screenshot(page, "public-home-phone")
            await page.goto(f"{service.base_url}/forums/{forum['id']}")
            assert await page.evaluate(SCROLL_WIDTH) <= viewport["width"], (name, "forum")
            await page.get_by_role("button", name="Anmelden").click()
            await page.get_by_role("alert").wait_for()
            assert await page.evaluate(SCROLL_WIDTH) <= viewport["width"], (name, "errors")
            if name == "phone":
                await screenshot(page, "public-form-errors-phone")
            await fill_newcomer(page, bodies.unique_email(name))
            await page.get_by_role("button", name="Anmelden").click()
            await page.get_by_role("heading", name="Anmeldung bestätigt").wait_for()
            assert await page.evaluate(SCROLL_WIDTH) <= viewport["width"], (name, "result")
            if name == "phone":
                await screenshot(page, "public-result-phone")
        finally:
            await context.close()


async def test_every_page_in_every_state_meets_wcag_21_aa(
    platform: Platform, browser_context: Any
) -> None:
    service = platform.registration
    open_forum = await new_forum(service, bodies.forum(seats_per_organization=3))
    cancelled = await new_forum(service)
    ok(await service.staff.post(f"/v1/forums/{cancelled['id']}/cancel"))
    base = service.base_url
    page = await browser_context.new_page()
    found: dict[str, list[str]] = {}

    async def check(state: str) -> None:
        found[state] = await accessibility_violations(page)

    await page.goto(base + "/")
    await check("home")
    await page.goto(f"{base}/forums/{open_forum['id']}")
    await check("form")
    await page.get_by_role("button", name="Anmelden").click()
    await check("form with errors")
    await fill_newcomer(page, bodies.unique_email("axe"))
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_role("heading", name="Anmeldung bestätigt").wait_for()
    await check("result")
    await page.goto(f"{base}/forums/{cancelled['id']}")
    await check("closed forum")
    await page.goto(f"{base}/forums/00000000-0000-0000-0000-000000000000")
    await check("not found")
    await page.goto(base + "/privacy")
    await check("privacy")
    await page.goto(base + "/registrations/00000000-0000-0000-0000-000000000000/registered")
    await check("result elsewhere")
    await page.goto(base + "/?lang=en")
    await check("home in English")
    await page.goto(f"{base}/forums/{open_forum['id']}")
    await check("form in English")

    assert found == {state: [] for state in found}


async def test_the_home_page_without_forums_says_so(settings: Settings, chromium: Any) -> None:
    async with running_registration(settings) as service:
        context = await chromium.new_context(locale="de-DE", viewport=PHONE)
        try:
            page = await context.new_page()
            await page.goto(service.base_url + "/")
            assert "Zurzeit ist keine Veranstaltung zur Anmeldung offen" in await page.inner_text(
                "main"
            )
            assert await accessibility_violations(page) == []
        finally:
            await context.close()
