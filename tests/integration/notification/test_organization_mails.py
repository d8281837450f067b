"""The organisation's mails: the welcome when it joins as a partner, the acknowledgement of its
interest, and the note about that interest to the competence centre's mailbox."""

from collections.abc import AsyncIterator

import pytest

from services.runtime.settings import Settings
from tests.integration.notification.conftest import Platform, platform_settings, running_platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, new_organization, new_partner, ok

STAFF_MAILBOX = "kompetenzzentrum@polizei.example"


@pytest.fixture(scope="module")
async def platform(module_settings: Settings) -> AsyncIterator[Platform]:
    settings = platform_settings(
        module_settings, staff_mailbox=f"Kompetenzzentrum Dialog <{STAFF_MAILBOX}>"
    )
    async with running_platform(settings) as running:
        yield running


async def test_a_new_partner_is_welcomed_in_its_language(platform: Platform) -> None:
    german, english = bodies.unique_email("partner"), bodies.unique_email("partner")

    await new_partner(
        platform.registration,
        name="Kulturhaus Kolibri",
        with_contact=bodies.contact(email=german, name="Lena Okafor"),
    )
    await new_partner(
        platform.registration,
        name="Bridge Club",
        with_contact=bodies.contact(email=english, language="en"),
    )

    welcome = await platform.received_once(german, "partner_welcome")
    assert welcome.subject == "Willkommen im Dialognetzwerk, Kulturhaus Kolibri"
    assert "Guten Tag Lena Okafor," in welcome.text
    assert welcome.message["To"].addresses[0].addr_spec == german
    in_english = await platform.received_once(english, "partner_welcome")
    assert in_english.subject == "Welcome to the Dialogue Network, Bridge Club"
    assert await platform.kinds_to(german) == ["partner_welcome"]
    assert await platform.kinds_to(english) == ["partner_welcome"]


async def test_interest_is_acknowledged_and_staff_get_a_note(platform: Platform) -> None:
    address = bodies.unique_email("interesse")
    organization = await new_organization(
        platform.registration,
        name="Tamilischer Kulturverein Lotus",
        with_contact=bodies.contact(email=address, name="Priya Raman", language="en"),
    )

    ok(
        await platform.registration.staff.post(
            f"/v1/organizations/{organization['id']}/interest",
            json={"note": "Wir möchten uns beim nächsten Forum vorstellen."},
        )
    )

    acknowledged = await platform.received_once(address, "interest_acknowledged")
    assert acknowledged.subject == "Thank you for your interest in the Dialogue Network"
    note = await platform.delivery_of(
        lambda d: (
            d["kind"] == "interest_staff_note"
            and d["organization_id"] == organization["id"]
            and d["status"] == "sent"
        ),
        "the staff note",
    )
    [message] = [
        m for m in await platform.received(STAFF_MAILBOX) if m.delivery["id"] == note["id"]
    ]
    assert message.subject == "Interesse an Partnerschaft: Tamilischer Kulturverein Lotus"
    assert message.message["To"].addresses[0].addr_spec == STAFF_MAILBOX
    assert f"Kontaktperson: Priya Raman <{address}>" in message.text
    assert "Wir möchten uns beim nächsten Forum vorstellen." in message.text
    assert await platform.kinds_to(address) == ["interest_acknowledged"]


async def test_interest_declared_while_registering_is_acknowledged_too(
    platform: Platform,
) -> None:
    forum = await new_forum(platform.registration, bodies.forum(title="Forum Interesse"))
    address = bodies.unique_email("anmeldung")

    made = ok(
        await platform.registration.staff.post(
            f"/v1/forums/{forum['id']}/registrations",
            json=bodies.registration(
                email=address,
                interested_in_partnership=True,
                new_organization=bodies.inline_organization(name="Krisendienst Lichtblick"),
            ),
        ),
        201,
    )

    await platform.received_once(address, "registration_confirmed")
    await platform.received_once(address, "interest_acknowledged")
    note = await platform.delivery_of(
        lambda d: (
            d["kind"] == "interest_staff_note" and d["organization_id"] == made["organization_id"]
        ),
        "the staff note",
    )
    assert note["recipient"] == STAFF_MAILBOX
