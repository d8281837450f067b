"""Every refusal is an `application/problem+json` body; field errors name their fields."""

from uuid import uuid4

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    forum_state,
    new_forum,
    ok,
    problem,
    register,
    registered,
)


async def test_unknown_ids_are_not_found(service: RunningService) -> None:
    nowhere = uuid4()

    for response in (
        await service.public.get(f"/v1/forums/{nowhere}"),
        await register(service, str(nowhere), client=service.public),
        await register(service, str(nowhere)),
        await service.staff.patch(f"/v1/forums/{nowhere}", json={"title": "Neu"}),
        await service.staff.get(f"/v1/forums/{nowhere}/registrations"),
        await service.staff.get(f"/v1/organizations/{nowhere}"),
        await service.staff.post(f"/v1/registrations/{nowhere}/cancel"),
        await service.public.get("/v1/no-such-resource"),
    ):
        problem(response, 404)


async def test_malformed_json_is_unprocessable(service: RunningService) -> None:
    forum = await new_forum(service)

    truncated = await service.public.post(
        f"/v1/forums/{forum['id']}/registrations",
        content=b'{"contact": {"name": "Ana", ',
        headers={"Content-Type": "application/json"},
    )
    not_an_object = await service.staff.post("/v1/organizations", json=["a", "list"])

    assert problem(truncated, 422)["errors"]
    assert problem(not_an_object, 422)["errors"]
    assert (await forum_state(service, forum["id"]))["seats_taken"] == 0


async def test_field_errors_name_each_field(service: RunningService) -> None:
    forum = await new_forum(service)
    body = bodies.registration(attendees=0, contact={"name": "", "email": "x"})

    several = problem(await register(service, forum["id"], body), 422)
    nested = problem(
        await service.staff.post("/v1/forums", json=bodies.forum(capacity=0, forum_format="party")),
        422,
    )
    bad_path = await service.staff.get("/v1/forums/not-a-uuid")
    bad_cursor = await service.staff.get(f"/v1/forums/{forum['id']}/registrations?cursor=%%")
    neither = await register(service, forum["id"], {**bodies.registration(), "organization": None})

    assert {"attendees", "contact.name", "contact.email"} <= {
        error["field"] for error in several["errors"]
    }
    assert {"capacity", "format"} <= {error["field"] for error in nested["errors"]}
    problem(bad_path, 422, field="forum_id")
    problem(bad_cursor, 422, field="cursor")
    problem(neither, 422, field="organization_id")


async def test_rule_refusals_are_problems_too(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1, seats_per_organization=1))
    made = await registered(service, forum["id"])

    duplicate = await register(
        service, forum["id"], bodies.registration(email=made["contact"]["email"])
    )
    over_cap = await register(
        service,
        forum["id"],
        bodies.registration(organization_id=made["organization_id"]),
    )
    staff_only = await service.public.get("/v1/organizations")
    unknown_organization = await register(
        service, forum["id"], bodies.registration(organization_id=uuid4())
    )

    problem(duplicate, 409, field="contact.email")
    problem(over_cap, 422, field="attendees")
    problem(staff_only, 401)
    problem(unknown_organization, 422, field="organization_id")
    assert len(ok(await service.staff.get(f"/v1/forums/{forum['id']}/registrations"))["items"]) == 1
