"""Organisations over HTTP: creation, lifecycle (prospect → … → former), listing."""

import asyncio
from uuid import UUID

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts_on_key,
    new_organization,
    ok,
    organization_names,
    problem,
    types,
)


async def test_create_echoes_fields_and_publishes_registered(
    service: RunningService,
) -> None:
    person = bodies.contact(name="Derya Yilmaz", phone="+49 231 123456", language="tr")
    sent = bodies.organization(
        name="Migrantenverein Hörde",
        kind="migrant_organization",
        district="Hörde",
        website="https://verein.example.org/",
        with_contact=person,
    )

    created = ok(await service.staff.post("/v1/organizations", json=sent), 201)

    UUID(created["id"])
    assert created["status"] == "prospect"
    for field in ("name", "kind", "district", "website", "contact"):
        assert created[field] == sent[field], field
    assert ok(await service.staff.get(f"/v1/organizations/{created['id']}")) == created
    [fact] = await facts_on_key(service, "organizations", created["id"], lambda message: True)
    assert fact.headers["type"] == "organization.registered"
    assert fact.value["type"] == "organization.registered"
    assert fact.value["key"] == created["id"]
    assert fact.value["data"]["organization_id"] == created["id"]
    assert fact.value["data"]["status"] == "prospect"
    assert fact.value["data"]["contact"]["email"] == person["email"]


async def test_lifecycle_steps_emit_their_facts_in_order(service: RunningService) -> None:
    organization = await new_organization(service)
    path = f"/v1/organizations/{organization['id']}"

    interested = ok(await service.staff.post(f"{path}/interest"))
    joined = ok(
        await service.staff.post(f"{path}/join", json={"agreement_signed_on": "2024-06-04"})
    )
    left = ok(await service.staff.post(f"{path}/leave", json={"reason": "moved away"}))

    assert interested["status"] == "interested"
    assert joined["status"] == "partner"
    assert joined["agreement_signed_on"] == "2024-06-04"
    assert left["status"] == "former"
    assert ok(await service.staff.get(path))["status"] == "former"
    chain = await facts_on_key(
        service,
        "organizations",
        organization["id"],
        lambda message: message.headers["type"] == "partner.left",
    )
    assert types(chain) == [
        "organization.registered",
        "organization.interested",
        "partner.joined",
        "partner.left",
    ]
    assert chain[2].value["data"]["agreement_signed_on"] == "2024-06-04"


async def test_invalid_transitions_are_conflicts(service: RunningService) -> None:
    organization = await new_organization(service)
    path = f"/v1/organizations/{organization['id']}"

    problem(await service.staff.post(f"{path}/leave"), 409)  # a prospect is no partner
    ok(await service.staff.post(f"{path}/interest"))
    problem(await service.staff.post(f"{path}/interest"), 409)  # already interested
    ok(await service.staff.post(f"{path}/join", json={"agreement_signed_on": "2024-06-04"}))
    problem(
        await service.staff.post(f"{path}/join", json={"agreement_signed_on": "2024-06-05"}),
        409,
    )
    assert ok(await service.staff.get(path))["agreement_signed_on"] == "2024-06-04"


async def test_join_needs_the_agreement_date(service: RunningService) -> None:
    organization = await new_organization(service)

    refused = await service.staff.post(f"/v1/organizations/{organization['id']}/join", json={})

    problem(refused, 422, field="agreement_signed_on")


async def test_list_filters_by_status_and_pages_with_cursor(
    registration: RunningService,
) -> None:
    service = registration  # a database of its own: the listing counts everything
    partner_ids = set()
    for index in range(5):
        organization = await new_organization(service, name=f"Partner {index}")
        await service.staff.post(
            f"/v1/organizations/{organization['id']}/join",
            json={"agreement_signed_on": "2024-06-04"},
        )
        partner_ids.add(organization["id"])
    await new_organization(service, name="Nur Interessent")

    seen: list[str] = []
    pages = 0
    url: str | None = "/v1/organizations?status=partner&limit=2"
    while url is not None:
        page = ok(await service.staff.get(url))
        pages += 1
        assert len(page["items"]) <= 2
        assert all(item["status"] == "partner" for item in page["items"])
        seen.extend(item["id"] for item in page["items"])
        url = (
            f"/v1/organizations?status=partner&limit=2&cursor={page['next']}"
            if page["next"]
            else None
        )

    assert pages == 3
    assert len(seen) == len(set(seen))
    assert set(seen) == partner_ids
    everyone = ok(await service.staff.get("/v1/organizations"))
    assert len(everyone["items"]) == 6
    assert everyone["next"] is None


async def test_unknown_kind_is_refused_naming_kind(service: RunningService) -> None:
    refused = await service.staff.post(
        "/v1/organizations", json=bodies.organization(name="Partei X", kind="political_party")
    )

    problem(refused, 422, field="kind")
    assert "Partei X" not in await organization_names(service)


async def test_concurrent_lifecycle_steps_are_serialised(service: RunningService) -> None:
    organization = await new_organization(service)
    path = f"/v1/organizations/{organization['id']}/interest"

    answers = await asyncio.gather(*(service.staff.post(path) for _ in range(10)))

    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 9
    connection = await service.database()
    try:
        interested = await connection.fetchval(
            "SELECT count(*) FROM registration.outbox"
            " WHERE type = 'organization.interested' AND message_key = $1",
            organization["id"],
        )
    finally:
        await connection.close()
    assert interested == 1
