"""After an organisation's erasure no table of any schema (registration, notification, reporting,
access; outboxes, inboxes, read models, deliveries) holds its contact's e-mail or name.

The mail sink keeps what was sent: it stands for the recipients' mailboxes, outside the system,
where a mail once delivered is the recipient's; it is not swept."""

import secrets

from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, ok
from tests.polling import until
from tests.security.conftest import WholePlatform
from tests.security.database_sweep import places_holding, schemas_swept

ERASURE_SECONDS = 30.0


async def test_an_erased_organisation_leaves_no_trace_in_any_schema(whole: WholePlatform) -> None:
    platform = whole.services
    service = platform.registration
    marker = secrets.token_hex(4)
    name = f"Zoraida Quellbrunn{marker}"
    address = f"zoraida.quellbrunn.{marker}@example.org"
    organization = ok(
        await service.staff.post(
            "/v1/organizations",
            json=bodies.organization(
                name=f"Verein Quellbrunn {marker}",
                with_contact=bodies.contact(name=name, email=address),
            ),
        ),
        201,
    )
    ok(
        await service.staff.post(
            f"/v1/organizations/{organization['id']}/join",
            json={"agreement_signed_on": "2024-06-04"},
        )
    )
    forum = await new_forum(service)
    registration = bodies.registration(organization_id=organization["id"], email=address, name=name)
    ok(await service.staff.post(f"/v1/forums/{forum['id']}/registrations", json=registration), 201)
    await platform.received_once(address, "registration_confirmed")
    await platform.settled(3, recipient=address)  # welcome, invitation, confirmation: all sent
    assert whole.settings.database_url is not None
    database = whole.settings.database_url.get_secret_value()
    await until(lambda: _projected(whole, forum["id"]), 30.0, "the registration in the reports")
    before = {needle: await places_holding(database, needle) for needle in (address, name)}

    erased = await service.staff.delete(f"/v1/organizations/{organization['id']}")

    async def nothing_left() -> bool:
        return not any(
            [await places_holding(database, address), await places_holding(database, name)]
        )

    await until(nothing_left, ERASURE_SECONDS, "no row holding the contact's e-mail or name")
    assert erased.status_code in (200, 204), erased.text
    # The sweep finds what it looks for: before the erasure every service held the contact.
    schemas_before = {place.split(".")[0] for place in before[address]}
    assert {"registration", "notification"} <= schemas_before, before
    assert {"registration", "notification", "reporting", "access"} <= await schemas_swept(database)


async def _projected(whole: WholePlatform, forum_id: str) -> bool:
    response = await whole.reporting.staff.get(f"/v1/reports/forums/{forum_id}")
    return response.status_code == 200 and response.json()["seats_confirmed"] >= 1
