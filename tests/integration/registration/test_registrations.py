"""Registrations over HTTP: who may register, the rules that refuse, idempotency, the fact."""

import json
from datetime import timedelta
from uuid import UUID

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    JsonBody,
    facts_on_key,
    forum_state,
    new_forum,
    new_organization,
    new_partner,
    of_type,
    ok,
    organization_names,
    problem,
    register,
    registered,
    registrations_of,
    types,
)


async def test_existing_organization_registers(service: RunningService) -> None:
    organization = await new_organization(service)
    forum = await new_forum(service)

    made = await register(
        service,
        forum["id"],
        bodies.registration(organization_id=organization["id"], attendees=2),
        client=service.public,
    )

    body = ok(made, 201)
    assert body["status"] == "confirmed"
    assert body["waitlist_position"] is None
    assert body["organization_id"] == organization["id"]
    assert body["attendees"] == 2
    assert (await forum_state(service, forum["id"]))["seats_remaining"] == 8


async def test_inline_organization_is_created_and_registered(service: RunningService) -> None:
    forum = await new_forum(service)
    body = bodies.registration(
        new_organization=bodies.inline_organization(name="Queeres Zentrum", kind="lgbtiq")
    )

    made = ok(await register(service, forum["id"], body, client=service.public), 201)

    created = ok(await service.staff.get(f"/v1/organizations/{made['organization_id']}"))
    assert created["name"] == "Queeres Zentrum"
    assert created["kind"] == "lgbtiq"
    assert created["status"] == "prospect"
    assert created["contact"]["email"] == body["contact"]["email"]
    [fact] = await facts_on_key(
        service, "organizations", made["organization_id"], lambda message: True
    )
    assert fact.headers["type"] == "organization.registered"
    assert fact.value["data"]["name"] == "Queeres Zentrum"


async def test_interest_in_partnership_moves_a_prospect_to_interested(
    service: RunningService,
) -> None:
    organization = await new_organization(service)
    forum = await new_forum(service)

    await registered(
        service,
        forum["id"],
        organization_id=organization["id"],
        interested_in_partnership=True,
    )

    now = ok(await service.staff.get(f"/v1/organizations/{organization['id']}"))
    assert now["status"] == "interested"
    chain = await facts_on_key(
        service, "organizations", organization["id"], of_type("organization.interested")
    )
    assert types(chain) == ["organization.registered", "organization.interested"]
    assert chain[-1].value["data"]["status"] == "interested"


async def test_inline_organization_with_interest_is_created_interested(
    service: RunningService,
) -> None:
    forum = await new_forum(service)

    made = await registered(service, forum["id"], interested_in_partnership=True)

    now = ok(await service.staff.get(f"/v1/organizations/{made['organization_id']}"))
    assert now["status"] == "interested"
    chain = await facts_on_key(
        service, "organizations", made["organization_id"], of_type("organization.interested")
    )
    assert types(chain) == ["organization.registered", "organization.interested"]
    # The interest names the registration that declared it.
    assert chain[-1].value["data"]["registration_id"] == made["id"]


async def test_consent_and_email_are_checked_naming_the_field(
    service: RunningService,
) -> None:
    forum = await new_forum(service)

    refused_organization = bodies.inline_organization(name="Nie Angelegt e.V.")
    no_consent = await register(
        service,
        forum["id"],
        bodies.registration(new_organization=refused_organization, consent=False),
    )
    bad_email = await register(
        service,
        forum["id"],
        bodies.registration(new_organization=refused_organization, email="ana@"),
    )

    problem(no_consent, 422, field="consent")
    problem(bad_email, 422, field="contact.email")
    assert await registrations_of(service, forum["id"]) == {}
    assert "Nie Angelegt e.V." not in await organization_names(service)


async def test_after_the_deadline_registration_is_closed(service: RunningService) -> None:
    closed = await new_forum(
        service,
        bodies.forum(starts_in=timedelta(days=2), deadline_before_start=timedelta(days=3)),
    )

    refused = await register(service, closed["id"], client=service.public)

    problem(refused, 409)
    assert (await forum_state(service, closed["id"]))["registration_open"] is False
    assert await registrations_of(service, closed["id"]) == {}


async def test_partners_only_forum_refuses_non_partners(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(audience="partners"))
    prospect = await new_organization(service)
    partner = await new_partner(service)

    refused = await register(
        service, forum["id"], bodies.registration(organization_id=prospect["id"])
    )
    accepted = await register(
        service, forum["id"], bodies.registration(organization_id=partner["id"])
    )

    problem(refused, 403)
    assert ok(accepted, 201)["status"] == "confirmed"


async def test_partners_only_forum_needs_a_token(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(audience="partners"))
    partner = await new_partner(service)

    anonymous = await register(
        service,
        forum["id"],
        bodies.registration(organization_id=partner["id"]),
        client=service.public,
    )

    problem(anonymous, 401)
    assert "www-authenticate" in anonymous.headers
    assert await registrations_of(service, forum["id"]) == {}


async def test_an_anonymous_replay_of_a_partners_only_registration_is_refused(
    service: RunningService,
) -> None:
    """The replay would answer with the cancel token: the same access rule holds for it."""
    forum = await new_forum(service, bodies.forum(audience="partners"))
    partner = await new_partner(service)
    body = bodies.registration(organization_id=partner["id"])
    key = {"Idempotency-Key": "partner-form-1"}
    first = await register(service, forum["id"], body, headers=key)

    replayed_anonymously = await register(
        service, forum["id"], body, client=service.public, headers=key
    )

    assert ok(first, 201)["cancel_token"]
    problem(replayed_anonymously, 401)
    assert "cancel_token" not in replayed_anonymously.text


async def test_organization_cap_counts_waitlisted_attendees(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=2, seats_per_organization=3))
    organization = await new_organization(service)
    other = await new_organization(service, name="Sportverein")

    first = await registered(service, forum["id"], organization_id=organization["id"], attendees=2)
    second = await registered(service, forum["id"], organization_id=organization["id"])
    over = await register(
        service, forum["id"], bodies.registration(organization_id=organization["id"])
    )
    too_many_at_once = await register(
        service, forum["id"], bodies.registration(organization_id=other["id"], attendees=4)
    )

    assert (first["status"], second["status"]) == ("confirmed", "waitlisted")
    problem(over, 422, field="attendees")
    problem(too_many_at_once, 422, field="attendees")
    assert len(await registrations_of(service, forum["id"])) == 2
    # A cancellation gives the organisation's share back.
    ok(await service.staff.post(f"/v1/registrations/{second['id']}/cancel"))
    await registered(service, forum["id"], organization_id=organization["id"])


async def test_same_email_twice_is_a_conflict(service: RunningService) -> None:
    forum = await new_forum(service)
    email = bodies.unique_email()
    await registered(service, forum["id"], email=email)

    again = await register(service, forum["id"], bodies.registration(email=email.upper()))

    problem(again, 409, field="contact.email")
    assert len(await registrations_of(service, forum["id"])) == 1


async def test_idempotency_key_replays_the_first_result(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1))
    ahead = await registered(service, forum["id"])
    body = bodies.registration()
    key = {"Idempotency-Key": "form-submit-7f3a"}
    first = ok(await register(service, forum["id"], body, headers=key), 201)
    assert (first["status"], first["waitlist_position"]) == ("waitlisted", 1)
    ok(await service.staff.post(f"/v1/registrations/{ahead['id']}/cancel"))  # promotes it

    again = ok(await register(service, forum["id"], body, headers=key), 201)
    other_body = await register(service, forum["id"], bodies.registration(attendees=1), headers=key)

    assert again["id"] == first["id"]
    assert (again["status"], again["waitlist_position"]) == ("waitlisted", 1)
    assert again["cancel_token"] == first["cancel_token"]
    problem(other_body, 422)
    listed = await registrations_of(service, forum["id"])
    assert listed[first["id"]]["status"] == "confirmed"
    assert len(listed) == 2
    chain = await facts_on_key(
        service, "registrations", forum["id"], of_type("registration.promoted")
    )
    assert types(chain) == ["registration.made"] * 2 + [
        "registration.cancelled",
        "registration.promoted",
    ]


async def test_registration_made_carries_what_notification_needs(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1, title="Offene Konferenz"))
    organization = await new_organization(service)
    await registered(service, forum["id"])
    body = bodies.registration(
        organization_id=organization["id"], attendees=1, name="Jonas Weber", language="en"
    )

    made = ok(await register(service, forum["id"], body, client=service.public), 201)

    chain = await facts_on_key(
        service,
        "registrations",
        forum["id"],
        of_type("registration.made", registration_id=made["id"]),
    )
    fact = chain[-1]
    assert fact.headers["type"] == "registration.made"
    assert fact.value["key"] == forum["id"]
    data = fact.value["data"]
    assert data["forum_id"] == forum["id"]
    assert data["organization_id"] == organization["id"]
    assert data["status"] == "waitlisted"
    assert data["waitlist_position"] == 1
    assert data["attendees"] == 1
    assert data["contact"]["name"] == "Jonas Weber"
    assert data["contact"]["email"] == body["contact"]["email"]
    assert data["contact"]["language"] == "en"
    assert data["cancel_token"] == made["cancel_token"]
    summary = data["forum"]
    assert summary["title"] == "Offene Konferenz"
    assert summary["format"] == forum["format"]
    assert summary["venue"] == forum["venue"]
    for moment in ("starts_at", "ends_at"):
        assert summary[moment].replace("Z", "+00:00") == forum[moment].replace("Z", "+00:00")


async def test_staff_listing_hides_cancel_tokens_and_pages(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=3))
    made = [await registered(service, forum["id"]) for _ in range(5)]

    seen: list[str] = []
    pages: list[JsonBody] = []
    url: str | None = f"/v1/forums/{forum['id']}/registrations?limit=2"
    while url is not None:
        response = await service.staff.get(url)
        page = ok(response)
        pages.append(page)
        for token in (registration_made["cancel_token"] for registration_made in made):
            assert token not in response.text
        assert "cancel_token" not in json.dumps(page)
        seen.extend(item["id"] for item in page["items"])
        url = (
            f"/v1/forums/{forum['id']}/registrations?limit=2&cursor={page['next']}"
            if page["next"]
            else None
        )

    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert seen == [registration_made["id"] for registration_made in made]  # arrival order
    item = pages[2]["items"][0]
    assert item["status"] == "waitlisted"
    assert item["waitlist_position"] == 2
    assert item["contact"]["email"] == made[4]["contact"]["email"]
    UUID(item["organization_id"])
    whole = ok(await service.staff.get(f"/v1/forums/{forum['id']}/registrations?limit=1000"))
    assert len(whole["items"]) == 5
    assert whole["next"] is None
    problem(
        await service.staff.get(f"/v1/forums/{forum['id']}/registrations?limit=1001"),
        422,
        field="limit",
    )
