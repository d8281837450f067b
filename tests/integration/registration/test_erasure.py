"""Erasure: after DELETE no row of the registration schema holds the contacts' personal data."""

import secrets
from uuid import UUID, uuid4

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts_on_key,
    new_forum,
    of_type,
    ok,
    problem,
    register,
    registered,
)


async def rows_holding(service: RunningService, text: str) -> dict[str, int]:
    """For every table of the `registration` schema, how many rows contain `text` anywhere."""
    conn = await service.database()
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'registration' AND table_type = 'BASE TABLE'"
        )
        found = {}
        for table in tables:
            name = table["table_name"]
            found[name] = await conn.fetchval(
                f'SELECT count(*) FROM registration."{name}" t WHERE t::text LIKE $1',
                f"%{text}%",
            )
        outbox = await conn.fetchval(
            "SELECT count(*) FROM registration.outbox WHERE envelope::text LIKE $1", f"%{text}%"
        )
    finally:
        await conn.close()
    assert "organizations" in found
    assert "registrations" in found
    assert "outbox" in found
    assert found["outbox"] == outbox
    return {name: count for name, count in found.items() if count}


async def test_erasure_removes_every_trace_of_the_contacts(service: RunningService) -> None:
    marker = secrets.token_hex(4)
    person = bodies.contact(
        name=f"Erika Muster {marker}", phone=f"+49 231 {int(marker, 16) % 10**8}", language="en"
    )
    organization = ok(
        await service.staff.post(
            "/v1/organizations", json=bodies.organization(with_contact=person)
        ),
        201,
    )
    forum = await new_forum(service, bodies.forum(capacity=1))
    other_forum = await new_forum(service)
    second_name = f"Murat Beispiel {marker}"
    confirmed = await registered(
        service,
        forum["id"],
        organization_id=organization["id"],
        name=second_name,
        interested_in_partnership=True,
    )
    waiting = ok(
        await register(
            service,
            forum["id"],
            bodies.registration(
                organization_id=organization["id"],
                name=person["name"],
                email=person["email"],
                phone=person["phone"],
                accessibility_needs=f"Rollstuhl {marker}",
            ),
            headers={"Idempotency-Key": f"erase-{marker}"},
        ),
        201,
    )
    elsewhere = await registered(
        service, other_forum["id"], organization_id=organization["id"], email=person["email"]
    )
    cancel = {"reason": f"Termin verschoben, Grüße {marker}"}  # free text: personal data
    ok(await service.staff.post(f"/v1/registrations/{confirmed['id']}/cancel", json=cancel))
    personal = [
        person["email"],
        person["name"],
        person["phone"],
        confirmed["contact"]["email"],
        second_name,
        marker,
        waiting["cancel_token"],
        confirmed["cancel_token"],
    ]
    assert await rows_holding(service, person["email"])  # it was there before

    erased = await service.staff.delete(f"/v1/organizations/{organization['id']}")

    assert erased.status_code == 204, erased.text
    for text in personal:
        assert await rows_holding(service, text) == {}, text
    # Gone for the API; the anonymous record stays, so counts and past registrations keep it.
    problem(await service.staff.get(f"/v1/organizations/{organization['id']}"), 404)
    listed = ok(await service.staff.get("/v1/organizations", params={"limit": 1000}))
    assert organization["id"] not in {item["id"] for item in listed["items"]}
    conn = await service.database()
    try:
        kept = await conn.fetchrow(
            "SELECT name, contact_email, erased_at FROM registration.organizations WHERE id = $1",
            UUID(organization["id"]),
        )
    finally:
        await conn.close()
    assert kept["name"] == organization["name"]
    assert kept["contact_email"] is None
    assert kept["erased_at"] is not None
    chain = await facts_on_key(
        service, "organizations", organization["id"], of_type("organization.erased")
    )
    assert sorted(chain[-1].value["data"]["registration_ids"]) == sorted(
        [confirmed["id"], waiting["id"], elsewhere["id"]]
    )
    for message in chain[-1:]:
        assert person["email"] not in str(message.value)


async def test_an_erased_organisation_is_gone_for_every_step(service: RunningService) -> None:
    organization = ok(
        await service.staff.post("/v1/organizations", json=bodies.organization()), 201
    )
    path = f"/v1/organizations/{organization['id']}"
    assert (await service.staff.delete(path)).status_code == 204

    problem(await service.staff.delete(path), 404)
    for step, body in (("interest", None), ("join", {"agreement_signed_on": "2024-06-04"})):
        problem(await service.staff.post(f"{path}/{step}", json=body), 404)
    problem(await service.staff.delete(f"/v1/organizations/{uuid4()}"), 404)
