"""The cancel link of a registrant's mail is the registration service's cancel page: opened as it
stands in the mail it shows the registration, and its form cancels it — after which the
registrant gets the cancellation mail."""

import re

import httpx

from services.notification.app import CANCEL_PAGE
from services.registration.links import cancel_page_url
from tests.html_page import body_text, forms
from tests.integration.notification.conftest import Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, registered, registrations_of


async def test_the_mailed_cancel_link_opens_the_page_that_cancels_the_registration(
    platform: Platform,
) -> None:
    forum = await new_forum(platform.registration, bodies.forum(title="Forum Abmelden"))
    email = bodies.unique_email("abmelden")
    made = await registered(
        platform.registration, forum["id"], email=email, attendees=2, language="en"
    )
    confirmation = await platform.received_once(email, "registration_confirmed")
    [link] = re.findall(r"https?://\S+/registrations/\S+/cancel\?token=\S+", confirmation.text)
    # Both services spell the link alike (it is a contract between the two).
    assert link == cancel_page_url(
        platform.settings.public_base_url, made["id"], made["cancel_token"]
    )
    assert (
        CANCEL_PAGE.format(
            base=platform.settings.public_base_url,
            registration_id=made["id"],
            token=made["cancel_token"],
        )
        == link
    )

    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as browser:
        page = await browser.get(link)
        assert page.status_code == 200, page.text
        shown = body_text(page.text)
        assert "Forum Abmelden" in shown
        assert "Attendees 2" in shown
        assert "Status Confirmed: you have a seat" in shown
        [form] = forms(page.text)
        assert form.method == "post"
        done = await browser.post(httpx.URL(link).join(form.action), data=form.fields)

    assert done.status_code == 200, done.text
    assert "cancelled" in body_text(done.text).lower()
    registrations = await registrations_of(platform.registration, forum["id"])
    assert registrations[made["id"]]["status"] == "cancelled"
    cancelled = await platform.received_once(email, "registration_cancelled")
    assert cancelled.subject == "Registration cancelled: Forum Abmelden"
